"""Polling: one pass over due villages (poller) and the batching writer."""
