"""Fetching: the one guarded HTTP client, the per-site cookie jar, robots.txt."""
