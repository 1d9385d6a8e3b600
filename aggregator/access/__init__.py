"""Access control without I/O: password hashes, accounts' scope, CSRF, login throttle."""
