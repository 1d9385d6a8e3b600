"""Running Sipande: the background jobs, the embedded scheduler, the distributed
worker and the config reload."""
