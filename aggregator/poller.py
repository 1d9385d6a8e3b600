"""Poll villages: ask the connector, turn every failure into data, decide, store.

The pipeline only calls things in order (fetch → connector → decide → store); a village that
fails, hangs or crashes a parser becomes a failed Check row, never a stopped run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aggregator.decide import decide
from aggregator.errors import AggregatorError, FetchError, ParseError
from aggregator.fetch import Fetcher
from aggregator.settings import Settings
from aggregator.store import Store
from aggregator.types import FetchResponse, PollOutcome, VillageForPoll
from connectors import connector_for

log = logging.getLogger(__name__)


class VillageHttp:
    """The HttpGetter a connector gets: the shared fetcher plus this village's validators.

    Responses are remembered for the length of one poll, so `auto` detection and the
    connector it picks can both look at the home page without fetching it twice.
    """

    def __init__(self, fetcher: Fetcher, validators: Mapping[str, Mapping[str, str]]) -> None:
        self._fetcher = fetcher
        self._old = validators
        self.validators: dict[str, dict[str, str]] = {k: dict(v) for k, v in validators.items()}
        self.bytes = 0
        self.requests = 0
        self.last: FetchResponse | None = None
        self._seen: dict[tuple[str, bool], FetchResponse] = {}

    async def get(self, url: str, *, conditional: bool = True) -> FetchResponse:
        if (url, conditional) in self._seen:
            return self._seen[(url, conditional)]
        if (url, False) in self._seen:  # a full response answers a conditional ask too
            return self._seen[(url, False)]
        known = self._old.get(url, {}) if conditional else {}
        resp = await self._fetcher.get(
            url, etag=known.get("etag"), last_modified=known.get("last_modified")
        )
        self.bytes += len(resp.content)
        self.requests += 1
        self.last = resp
        self._seen[(url, conditional)] = resp
        if conditional and resp.status_code == 200:
            fresh = {
                k: resp.headers[h]
                for k, h in (("etag", "etag"), ("last_modified", "last-modified"))
                if resp.headers.get(h)
            }
            if fresh:
                self.validators[url] = fresh
            else:
                self.validators.pop(url, None)
        return resp


@dataclass(frozen=True)
class PassReport:
    villages: int
    ok: int
    failed: int
    new_items: int
    seconds: float


class Poller:
    def __init__(self, store: Store, fetcher: Fetcher, settings: Settings) -> None:
        self.store = store
        self.fetcher = fetcher
        self.settings = settings
        self._slots = asyncio.Semaphore(settings.concurrency)

    async def poll_village(self, village: VillageForPoll) -> PollOutcome:
        """Poll one village; always returns an outcome, whatever the site does."""
        started = datetime.now(UTC)
        clock = time.monotonic()
        http = VillageHttp(self.fetcher, village.validators)
        harvest = None
        phase = message = None
        status_code = None
        try:
            # A connector makes several requests; bound the whole poll, not only each one.
            async with asyncio.timeout(self.settings.request_timeout * 3):
                harvest = await connector_for(village.platform).collect(village, http)
        except FetchError as e:
            phase, message, status_code = e.phase, e.message, e.status_code
        except ParseError as e:
            phase, message = "parse", str(e)
        except TimeoutError:
            phase = "http"
            message = f"poll not complete within {self.settings.request_timeout * 3:g}s"
        except AggregatorError as e:
            phase, message = "parse", str(e)
        except Exception as e:  # a parser bug on a hostile page must not stop the pass
            log.exception("village=%s url=%s: connector crashed", village.code, village.url)
            phase, message = "parse", f"unexpected {type(e).__name__}: {e}"
        ok = harvest is not None
        if ok:
            assert harvest is not None
            message = "; ".join(harvest.notes) or None
            if http.last is not None:
                status_code = http.last.status_code
        else:
            log.info(
                "village=%s url=%s: check failed (%s) %s", village.code, village.url, phase, message
            )
        return PollOutcome(
            village_code=village.code,
            started_at=started,
            duration_ms=int((time.monotonic() - clock) * 1000),
            ok=ok,
            phase=phase,
            message=message,
            status_code=status_code,
            url=http.last.url if http.last else village.url,
            bytes=http.bytes,
            harvest=harvest,
            # Keep validators only from a poll that parsed: a 304 must never hide a bad parse.
            validators=http.validators if ok else {},
        )

    async def poll_and_record(self, village: VillageForPoll) -> tuple[PollOutcome, int]:
        async with self._slots:
            outcome = await self.poll_village(village)
        decision = decide(village, outcome, self.settings)
        new = await asyncio.to_thread(self.store.record_poll, outcome, decision)
        if new:
            log.info("village=%s url=%s: %d new items", village.code, village.url, new)
        return outcome, new

    async def run_pass(self, villages: Sequence[VillageForPoll]) -> PassReport:
        clock = time.monotonic()
        results = await asyncio.gather(
            *(self.poll_and_record(v) for v in villages), return_exceptions=True
        )
        ok = failed = new_items = 0
        for village, result in zip(villages, results, strict=True):
            if isinstance(result, BaseException):
                # Only our own infrastructure (the store) can land here; log and go on.
                log.error("village=%s: could not record poll: %r", village.code, result)
                failed += 1
                continue
            outcome, new = result
            ok += outcome.ok
            failed += not outcome.ok
            new_items += new
        return PassReport(len(villages), ok, failed, new_items, time.monotonic() - clock)

    async def dispatch_due(self) -> PassReport:
        """The dispatcher tick: poll every village that is due now."""
        now = datetime.now(UTC)
        due = await asyncio.to_thread(self.store.due_villages, now)
        if not due:
            return PassReport(0, 0, 0, 0, 0.0)
        report = await self.run_pass(due)
        log.info(
            "dispatch: %d villages polled (%d ok, %d failed) in %.1fs",
            report.villages,
            report.ok,
            report.failed,
            report.seconds,
        )
        return report
