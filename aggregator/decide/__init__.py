"""Pure rules: the next check (schedule), status, score, thresholds."""
