"""Subcommands for operators, registered on the `sipande` parser by `aggregator.cli`."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[..., None],
) -> None:
    """Add the operator subcommands; `common(p)` adds --config and --database to a parser."""
