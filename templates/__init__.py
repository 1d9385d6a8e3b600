"""The page templates and static files. They ship inside the package as
`aggregator.templates` (pyproject.toml maps this directory there)."""
