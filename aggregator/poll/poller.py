"""Poll villages: ask the connector, turn every failure into data, decide, store.

The pipeline only calls things in order (fetch → connector → decide → store); a village that
fails, hangs or crashes a parser becomes a failed Check row, never a stopped run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from aggregator.alerts import AlertEvent
from aggregator.alerts.outbox import queue_alerts
from aggregator.clock import phase_of, read_recently, settling
from aggregator.decide.schedule import decide
from aggregator.errors import AggregatorError, FetchError, ParseError
from aggregator.fetch.client import Fetcher
from aggregator.fetch.robots import RobotsCache
from aggregator.integrity import is_spam_item
from aggregator.integrity.postcheck import (
    PostCheck,
    analyse_misses,
    body_verdict,
    check_posts,
    looked_at,
    misses,
    to_check,
    with_look,
    without_bodies,
)
from aggregator.integrity.watch import FindingReport, IntegrityReport, browser_view, scan_site
from aggregator.poll.village_http import VillageHttp
from aggregator.poll.writer import MAX_BATCH, BatchWriter
from aggregator.settings import Settings
from aggregator.store import Store
from aggregator.types import FetchResponse, Harvest, ParsedItem, PollOutcome, VillageForPoll
from connectors import connector_for
from connectors.base import as_text
from connectors.feed import FEED_STATE_KEYS

log = logging.getLogger(__name__)

NETWORK_PHASES = ("dns", "connect")
OFFLINE_MIN_FAILURES = 3
OFFLINE_WINDOW = 300.0  # seconds: a success this recent proves our own network works
# Remembered spam verdicts per process (~4 MB): known feed entries are not judged again
# at all, so the memo only spares the same text on many sites (see postcheck.MEMO_MAX).
SPAM_MEMO_MAX = 20_000
SCAN_ITEMS = 20  # newest posts an integrity scan reads


def flag_spam(harvest: Harvest, known: dict[str, bool] | None = None) -> Harvest:
    """Mark injected gambling posts: kept as evidence, never counted as village activity.
    `known` remembers verdicts by content hash: a re-read feed costs no second analysis."""
    memo = known if known is not None else {}
    if len(memo) > SPAM_MEMO_MAX:
        memo.clear()
    items = []
    for i in harvest.items:
        if i.known:  # judged when it was first read; the store leaves it alone
            items.append(i)
            continue
        key = i.content_hash or f"{i.title}\n{i.summary}"
        if key not in memo:
            memo[key] = is_spam_item(i.title, i.summary)
        items.append(i if i.spam == memo[key] else replace(i, spam=memo[key]))
    return replace(harvest, items=tuple(items))


def keep_feed_state(
    village: VillageForPoll, harvest: Harvest, validators: dict[str, dict[str, str]]
) -> None:
    """Store the feed's body digest and entry fingerprints with its validators: the harvest's
    new ones, or (a 304, an identical body) those the last poll remembered."""
    url = harvest.feed_url
    if not url:
        return
    old = village.validators.get(url, {})
    state = harvest.feed_state or {k: old[k] for k in FEED_STATE_KEYS if k in old}
    if state:
        validators.setdefault(url, {}).update(state)


def expected_ms(village: VillageForPoll) -> float:
    """How long a poll of the village is expected to take: its last one, else unknown (inf)."""
    ms = village.last_duration_ms
    return float("inf") if ms is None else float(ms)


@dataclass(frozen=True)
class PassReport:
    villages: int
    ok: int
    failed: int
    new_items: int
    seconds: float


def first_poll(plan: Mapping[str, str], now: datetime) -> datetime | None:
    """When the village was first polled, kept in its plan; `now` for a village with no
    plan yet (this is its first poll). None for one polled before the plan kept it (or whose
    plan lost it): it is no new village."""
    if not plan:
        return now
    try:
        return datetime.fromisoformat(plan["first"])
    except (KeyError, TypeError, ValueError):
        return None


class Poller:
    def __init__(self, store: Store, fetcher: Fetcher, settings: Settings) -> None:
        self.store = store
        self.fetcher = fetcher
        self.settings = settings
        self._slots = asyncio.Semaphore(settings.concurrency)
        # Polls taken but not yet written: bounds memory when the writer falls behind (each
        # result holds its harvest) without holding network slots during the write.
        self._in_flight = 2 * settings.concurrency + MAX_BATCH
        self._unwritten = asyncio.Semaphore(self._in_flight)
        self.robots = RobotsCache(fetcher)
        self._last_success = float("-inf")
        self._spam_memo: dict[str, bool] = {}
        self._body_memo: dict[str, FindingReport | None] = {}  # post-body verdicts by digest
        self._writer: BatchWriter | None = None
        self._writer_loop: asyncio.AbstractEventLoop | None = None

    @property
    def writer(self) -> BatchWriter:
        """The batching writer of the running event loop (a Poller may outlive a loop)."""
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer_loop is not loop:
            self._writer, self._writer_loop = BatchWriter(self.store), loop
        return self._writer

    async def poll_village(self, village: VillageForPoll) -> PollOutcome:
        """Poll one village; always returns an outcome, whatever the site does."""
        started = datetime.now(UTC)
        clock = time.monotonic()
        self.fetcher.cookies.seed(village.cookies)
        self.robots.seed(village.url, village.plan)
        budget = self.settings.request_timeout * 3
        http = VillageHttp(
            self.fetcher,
            village.validators,
            self.robots,
            (clock + budget, self.settings.request_timeout),
        )
        harvest = None
        phase = message = None
        status_code = None
        retry_after = None
        first = first_poll(village.plan, started)
        spread = self.settings.first_read_spread
        settling_now = first is not None and settling(
            first, spread, started, phase_of(village.code)
        )
        scan_due = self._integrity_due(village, started, settling_now)
        view: FetchResponse | None = None
        # A failing village is re-planned: everything is read again until it answers.
        replan = {"first": first.isoformat()} if first else {}
        asked = replace(
            village,
            plan=replan if village.consecutive_failures else village.plan,
            settling=settling_now,
        )
        try:
            # A connector makes several requests; bound the whole poll, not only each one.
            async with asyncio.timeout(budget):
                if scan_due:
                    view = await self._browser_view(village, http)
                harvest = await connector_for(village.platform).collect(asked, http)
        except FetchError as e:
            phase, message, status_code = e.phase, e.message, e.status_code
            retry_after = e.retry_after
            if phase == "deferred":  # a connector that could not go on without that request
                phase, message = "http", f"poll not complete within {budget:g}s ({message})"
        except ParseError as e:
            phase, message = "parse", str(e)
        except TimeoutError:
            phase = "http"
            message = f"poll not complete within {budget:g}s"
        except AggregatorError as e:
            phase, message = "parse", str(e)
        except Exception as e:  # a parser bug on a hostile page must not stop the pass
            log.exception("village=%s url=%s: connector crashed", village.code, village.url)
            phase, message = "parse", f"unexpected {type(e).__name__}: {e}"
        ok = harvest is not None
        integrity = posts = plan = None
        if ok:
            assert harvest is not None
            harvest = flag_spam(as_text(harvest), self._spam_memo)
            posts = await self._check_posts(village, harvest)
            harvest = without_bodies(harvest)
            keep_feed_state(village, harvest, http.validators)
            moved = not harvest.not_modified and harvest.platform != village.detected_platform
            plan = {
                **({} if moved else asked.plan),
                **harvest.plan,
                **self.robots.plan_entries(village.url),
                **replan,
            }
            message = "; ".join(harvest.notes) or None
            if http.last is not None:
                status_code = http.last.status_code
            if scan_due:
                integrity = await self._scan(village, harvest, http, view)
                posts = await self._recheck_post(village, posts)
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
            retry_after=retry_after,
            integrity=integrity,
            cookies=self.fetcher.cookies.snapshot(
                [village.url, *([http.last.url] if http.last else [])]
            ),
            posts=posts,
            plan=plan,
        )

    def _integrity_due(self, village: VillageForPoll, now: datetime, settling_now: bool) -> bool:
        if not self.settings.integrity_watch:
            return False
        last = village.integrity_checked_at
        if last is None:  # a new village is first scanned at its slot of first_read_spread
            return not settling_now
        every = self.settings.integrity_interval
        return not read_recently(last, every, now, phase_of(village.code))

    async def _browser_view(
        self, village: VillageForPoll, http: VillageHttp
    ) -> FetchResponse | None:
        """With a scan due, the home page is fetched once, as the scan's browser view, and
        the connector reads it from there (when it is the site's page: 200, on its host,
        allowed by robots.txt). A site that does not answer it fails the connector's own
        request for it the same way, without a second wait. A site whose robots.txt keeps
        Sipande out is not asked at all (the poll records that)."""
        try:
            if not await self.robots.allowed(village.url):
                return None
            view = await browser_view(self.fetcher, village.url)
            if view is None or view.status_code != 200:
                return view
            if urlsplit(view.url).hostname == urlsplit(village.url).hostname:
                http.seed(village.url, view)
            return view
        except FetchError as e:
            if e.phase != "robots":
                http.seed(village.url, e)
            return None

    async def _scan(
        self,
        village: VillageForPoll,
        harvest: Harvest,
        http: VillageHttp,
        view: FetchResponse | None,
    ) -> IntegrityReport | None:
        """The integrity watch; a failure here is logged and never fails the poll. What the
        poll fetched (the browser view, robots.txt, the sitemap) is not fetched again."""
        try:
            async with asyncio.timeout(self.settings.request_timeout * 6):
                shared: dict[str, FetchResponse] = {"browser": view} if view else {}
                if sitemap := http.sitemap():
                    shared["sitemap"] = sitemap
                if robots := await self.robots.answer(village.url):
                    shared["robots"] = robots
                # Item pages the poll read (a first poll confirms sitemap items) count as
                # the scan's item pages: the same page is not asked twice.
                read = http.read({i.url for i in harvest.items if i.url})
                items = await asyncio.to_thread(self._scan_items, village.code, harvest)
                return await scan_site(self.fetcher, village.url, items, shared, read)
        except Exception:
            log.exception("village=%s url=%s: integrity scan failed", village.code, village.url)
            return None

    def _scan_items(self, code: str, harvest: Harvest) -> list[ParsedItem]:
        """The newest posts the scan reads (title, excerpt, url): what this poll read in
        full, then the newest stored ones (spam included). An unchanged feed is not parsed
        again for the scan: the store has its entries."""
        items = [i for i in harvest.items if not i.known][:SCAN_ITEMS]
        seen = {i.url for i in items}
        for n in self.store.news(village=code, limit=SCAN_ITEMS, include_spam=True):
            if len(items) < SCAN_ITEMS and n["url"] not in seen:
                seen.add(n["url"])
                items.append(ParsedItem(n["title"], n["url"], None, None, n["summary"] or ""))
        return items

    async def _check_posts(self, village: VillageForPoll, harvest: Harvest) -> PostCheck | None:
        """The integrity check of the bodies this poll received (new or changed items only;
        a body seen before is judged from memory). Never fails the poll."""
        try:
            wanted = to_check(harvest.items)
            if not wanted:
                return None
            todo = misses(wanted, self._body_memo)
            # Parsing bodies is CPU work: off the loop, like the watch's analysis.
            fresh = await asyncio.to_thread(analyse_misses, todo) if todo else {}
            return check_posts(wanted, self._body_memo, fresh)
        except Exception:
            log.exception("village=%s url=%s: post body check failed", village.code, village.url)
            return None

    async def _recheck_post(
        self, village: VillageForPoll, posts: PostCheck | None
    ) -> PostCheck | None:
        """With the watch, while a post-body finding is open and this poll did not read that
        post: fetch its page once. A post deleted (404, 410) or read clean is a clean look;
        otherwise a post that is never edited again (REST and feeds hand over changed posts
        only) would keep its finding open forever. One request per scan, only while the
        finding is open."""
        url = village.open_post_finding
        if url is None or looked_at(posts, url):
            return posts
        try:
            async with asyncio.timeout(self.settings.request_timeout * 2):
                resp = await self.fetcher.get(url)
            if resp.status_code in (404, 410):
                return with_look(posts, url, None)
            if resp.status_code != 200:
                return posts
            page = resp.content.decode("utf-8", errors="replace")
            verdict = await asyncio.to_thread(body_verdict, page, url)
        except Exception as e:  # the watch's extra look never fails the poll
            log.debug(
                "village=%s url=%s: post %s not re-read: %r", village.code, village.url, url, e
            )
            return posts
        return with_look(posts, url, verdict)

    async def _poll(self, village: VillageForPoll) -> PollOutcome:
        async with self._slots:
            outcome = await self.poll_village(village)
        if outcome.ok:
            self._last_success = time.monotonic()
        return outcome

    async def _record(self, village: VillageForPoll, outcome: PollOutcome) -> int:
        decision = decide(village, outcome, self.settings)
        first = village.last_duration_ms is None  # never checked before
        new = await self.writer.write(outcome, decision, first=first)
        if outcome.integrity is not None:
            events = await asyncio.to_thread(
                self.store.record_integrity, village.code, outcome.integrity, outcome.started_at
            )
            await self._queue_alerts(events)
        posts = outcome.posts
        if posts is not None and posts.worth_recording(village.open_post_finding):
            events = await asyncio.to_thread(
                self.store.record_post_findings, village.code, posts, outcome.started_at
            )
            await self._queue_alerts(events)
        if new:
            log.info("village=%s url=%s: %d new items", village.code, village.url, new)
        return new

    async def _queue_alerts(self, events: list[AlertEvent]) -> None:
        """Queue alerts for the alerts job: sending is off the poll path, so a slow or
        failing target never holds a poll up."""
        if events:
            await asyncio.to_thread(
                queue_alerts, self.store.engine, self.settings.alerts, events, datetime.now(UTC)
            )

    async def poll_and_record(self, village: VillageForPoll) -> tuple[PollOutcome, int]:
        outcome = await self._poll(village)
        return outcome, await self._record(village, outcome)

    def _we_are_offline(self, held: list[tuple[VillageForPoll, PollOutcome]], ok: int) -> bool:
        """Every village failed to resolve or connect at once and nothing succeeded lately:
        that is our network, not theirs (Uptime Kuma's lesson, docs/design.md)."""
        recent = time.monotonic() - self._last_success < OFFLINE_WINDOW
        return ok == 0 and len(held) >= OFFLINE_MIN_FAILURES and not recent

    async def run_pass(
        self,
        villages: Sequence[VillageForPoll],
        on_done: Callable[[VillageForPoll, PollOutcome], None] | None = None,
    ) -> PassReport:
        """Poll every village once; `on_done` hears of each village once it is recorded (a
        progress bar)."""
        clock = time.monotonic()
        done = on_done or (lambda _village, _outcome: None)
        held: list[tuple[VillageForPoll, PollOutcome]] = []
        counts = {"ok": 0, "failed": 0, "new": 0}

        async def one(village: VillageForPoll) -> None:
            async with self._unwritten:
                outcome = await self._poll(village)
                if not outcome.ok and outcome.phase in NETWORK_PHASES:
                    held.append((village, outcome))  # decided once the whole pass is in
                    return
                new = await self._record(village, outcome)
            # Read-modify-write after the await: `counts[k] += await f()` would read the
            # counter before awaiting and lose concurrent updates.
            counts["new"] += new
            counts["ok" if outcome.ok else "failed"] += 1
            done(village, outcome)

        # Slowest first (longest-processing-time order): a site that took the whole deadline
        # last time starts now, not in the last wave where it would stretch the pass by a
        # deadline. Never-polled villages count as slow. Slots are granted in FIFO order.
        order = iter(sorted(villages, key=expected_ms, reverse=True))

        async def worker() -> None:
            # A few workers take the villages in turn (not a task per village: a province's
            # pass would hold tens of thousands of waiting tasks in memory).
            for village in order:
                try:
                    await one(village)
                except Exception as e:
                    # Only our own infrastructure (the store) can land here; log and go on.
                    log.error("village=%s: could not record poll: %r", village.code, e)
                    counts["failed"] += 1

        await asyncio.gather(*(worker() for _ in range(min(self._in_flight, len(villages)))))
        offline = self._we_are_offline(held, counts["ok"])
        if offline:
            log.warning("poller offline: all %d villages failed to resolve or connect", len(held))

        async def record_held(village: VillageForPoll, outcome: PollOutcome) -> None:
            if offline:
                outcome = replace(
                    outcome,
                    phase="offline",
                    message=f"poller offline ({outcome.phase}: {outcome.message})",
                )
            try:
                await self._record(village, outcome)
            except Exception as e:  # the store, as in worker(): log and go on
                log.error("village=%s: could not record poll: %r", village.code, e)
            else:
                done(village, outcome)
            finally:
                counts["failed"] += 1

        # All at once: the writer takes them in a few batches, not a linger each.
        await asyncio.gather(*(record_held(v, o) for v, o in held))
        return PassReport(
            len(villages), counts["ok"], counts["failed"], counts["new"], time.monotonic() - clock
        )

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
