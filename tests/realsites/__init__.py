"""Real village software run on loopback for the tests (Debian's WordPress with MariaDB)."""
