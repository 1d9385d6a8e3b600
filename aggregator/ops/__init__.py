"""Operations: importing village sites, discovery, backups, observability helpers."""
