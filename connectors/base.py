"""What every connector is: an object that reads one village site through an HttpGetter.

Connectors parse with pure functions and do no I/O of their own beyond `http.get`.
"""

from __future__ import annotations

from typing import Protocol

from aggregator.errors import FetchError
from aggregator.types import FetchResponse, Harvest, HttpGetter, VillageForPoll


class Connector(Protocol):
    name: str

    async def collect(self, village: VillageForPoll, http: HttpGetter) -> Harvest: ...


def require_ok(resp: FetchResponse) -> FetchResponse:
    """Raise FetchError(phase="http") unless the response is a 2xx or a 304."""
    if resp.not_modified or 200 <= resp.status_code < 300:
        return resp
    raise FetchError("http", f"HTTP {resp.status_code}", url=resp.url, status_code=resp.status_code)
