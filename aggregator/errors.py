"""The one small error tree of Sipande; third-party exceptions are wrapped at the boundary."""

from __future__ import annotations


class AggregatorError(Exception):
    """Base of every error Sipande raises on purpose."""


class ConfigError(AggregatorError):
    """A configuration file is invalid; `problems` lists every `file:line: field: why`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# Phases in the order a poll goes through them; a failed check records the one that failed.
# "blocked": the target resolved to a private address and allow_private_addresses is off;
# "robots": the site's robots.txt disallows us; "offline": our own network was down, so the
# check says nothing about the village (not counted as its failure).
PHASES = ("dns", "blocked", "robots", "connect", "tls", "http", "parse", "offline")


class FetchError(AggregatorError):
    """A request failed; `phase` is one of PHASES (or "blocked" for refused targets)."""

    def __init__(
        self,
        phase: str,
        message: str,
        *,
        url: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
    ):
        self.phase = phase
        self.message = message
        self.url = url
        self.status_code = status_code
        self.retry_after = retry_after  # seconds the server asked us to wait (429/503)
        super().__init__(f"{phase}: {message}")


class ParseError(AggregatorError):
    """What a site returned could not be understood."""

    phase = "parse"
