"""What every connector is: an object that reads one village site through an HttpGetter.

Connectors parse with pure functions and do no I/O of their own beyond `http.get`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from aggregator.errors import FetchError
from aggregator.types import FetchResponse, Harvest, HttpGetter, VillageForPoll


class Connector(Protocol):
    name: str

    async def collect(self, village: VillageForPoll, http: HttpGetter) -> Harvest: ...


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def require_ok(resp: FetchResponse) -> FetchResponse:
    """Raise FetchError(phase="http") unless the response is a 2xx or a 304."""
    if resp.not_modified or 200 <= resp.status_code < 300:
        return resp
    retry = None
    if resp.status_code in (429, 503):
        retry = retry_after_seconds(resp.headers.get("retry-after"))
    raise FetchError(
        "http",
        f"HTTP {resp.status_code}" + (f" (Retry-After {retry:.0f}s)" if retry is not None else ""),
        url=resp.url,
        status_code=resp.status_code,
        retry_after=retry,
    )
