"""The one module that owns SQL: schema migration, config sync, the poll schedule, writes of
poll outcomes, and the read queries the web layer uses.

SQLite (WAL) by default; any SQLAlchemy URL works, PostgreSQL via psycopg at scale.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, bindparam, event, func, insert, or_, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, create_engine, select

from aggregator.accounts import Accounts
from aggregator.alerts import AlertEvent
from aggregator.auth import private_file
from aggregator.decide import first_check_at
from aggregator.models import Check, Finding, Kecamatan, MetricSample, NewsItem, Service, Village
from aggregator.post_findings import PostFindings
from aggregator.postcheck import POST_KIND
from aggregator.queries import ReadQueries
from aggregator.scorekeeping import (
    FUTURE_GRACE,
    RECENT_WINDOW,
    ScoreKeeping,
    compromised_counts,
    legit_news,
)
from aggregator.settings import DistrictConfig, Settings
from aggregator.status import derive_status
from aggregator.types import Decision, ParsedItem, PollOutcome, VillageForPoll
from aggregator.yardstick_store import YardstickStore

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///data/sipande.db"
_MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, NORMAL sync, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


# The stored items a harvest may match, by guid, url or (for items with neither) content hash:
# built once, the lists bound as expanding parameters (a merge per poll is a hot path).
_EXISTING = sa_select(
    col(NewsItem.id),
    col(NewsItem.guid),
    col(NewsItem.url),
    col(NewsItem.content_hash),
    col(NewsItem.title),
    col(NewsItem.is_spam),
).where(
    col(NewsItem.village_code) == bindparam("code"),
    or_(
        col(NewsItem.guid).in_(bindparam("guids", expanding=True)),
        col(NewsItem.url).in_(bindparam("urls", expanding=True)),
        col(NewsItem.content_hash).in_(bindparam("hashes", expanding=True)),
    ),
)


def _json_object(text: str | None) -> dict[str, Any]:
    """A JSON object kept in a text column; anything else (a hand edit, a bad row) is {}."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def dedup_keys(item: ParsedItem) -> list[tuple[str, str]]:
    """Identity of an item, strongest first: guid, then url; the content hash only for an
    item with neither (two real posts may share a text, e.g. a monthly posyandu notice)."""
    keys = []
    if item.guid:
        keys.append(("guid", item.guid))
    if item.url:
        keys.append(("url", item.url))
    if not keys:
        keys.append(("hash", item.content_hash))
    return keys


def _open_post_url() -> Any:
    """The post url of the village's open post-body finding, as a column of a village query
    (the poller needs it to see whether a clean body resolves that finding)."""
    return (
        select(Finding.url)
        .where(
            Finding.village_code == Village.code,
            Finding.status == "open",
            Finding.kind == POST_KIND,
        )
        .limit(1)
        .scalar_subquery()
    )


def _dedup_key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:64]}"


class Store(ReadQueries, ScoreKeeping, Accounts, YardstickStore, PostFindings):
    """All reads and writes. Web handlers only call the read methods."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, settings: Settings | None = None):
        self.url = url
        self.engine = make_engine(url)
        self.settings = settings or Settings()
        # One writer at a time (SQLite allows one; on PostgreSQL it keeps a process's writes
        # ordered). Reads never take it.
        self._write_lock = threading.Lock()
        # Scraping rules live in the config file, not the database; kept from the last sync.
        self.html_rules: dict[str, dict[str, str]] = {}

    def close(self) -> None:
        self.engine.dispose()

    # -- schema -----------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as conn:
            self._serialise(conn)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def _serialise(self, conn: Connection) -> None:
        """On PostgreSQL, several workers may start at once: one migrates or syncs at a time
        (a transaction-scoped advisory lock; SQLite already has a single writer)."""
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(727170)"))

    # -- config -----------------------------------------------------------------------

    def sync_config(self, config: DistrictConfig, now: datetime) -> dict[str, int]:
        """Make the village table match the file; villages dropped from it are kept, unpolled."""
        counts = {"added": 0, "updated": 0, "removed": 0}
        self.html_rules = {k: dict(v) for k, v in config.html_rules.items()}
        with self._write_lock, Session(self.engine) as s:
            self._serialise(s.connection())
            kec_existing = {k.code: k for k in s.exec(select(Kecamatan)).all()}
            for kc in config.kecamatan:
                kec = kec_existing.pop(kc.code, None) or Kecamatan(
                    code=kc.code, name=kc.name, kabupaten_code=config.kabupaten_code
                )
                kec.name, kec.in_config = kc.name, True
                kec.kabupaten_code = config.kabupaten_code
                s.add(kec)
            for kec in kec_existing.values():
                kec.in_config = False
                s.add(kec)
            s.flush()
            existing = {v.code: v for v in s.exec(select(Village)).all()}
            for vc in config.villages:
                v = existing.pop(vc.code, None)
                if v is None:
                    v = Village(code=vc.code, kecamatan_code=vc.kecamatan_code, name=vc.name)
                    v.next_check_at = first_check_at(vc.code, now, self.settings)
                    counts["added"] += 1
                elif (v.url, v.platform, v.name, v.kecamatan_code, v.in_config) != (
                    vc.url,
                    vc.platform,
                    vc.name,
                    vc.kecamatan_code,
                    True,
                ):
                    counts["updated"] += 1
                if v.url != vc.url or v.platform != vc.platform:
                    # A new address or platform: forget what we learned about the old one.
                    v.feed_url, v.validators = None, "{}"
                    v.detected_platform = v.platform_version = None
                    v.consecutive_failures, v.failing_since = 0, None
                    v.next_check_at = first_check_at(vc.code, now, self.settings)
                v.name, v.type, v.url, v.platform = vc.name, vc.type, vc.url, vc.platform
                v.kecamatan_code, v.in_config = vc.kecamatan_code, True
                v.html_rules = vc.html_rules
                s.add(v)
            for v in existing.values():
                if v.in_config:
                    counts["removed"] += 1
                v.in_config = False
                s.add(v)
            s.commit()
        self.refresh_statuses(now)
        return counts

    # -- schedule ---------------------------------------------------------------------

    def due_villages(
        self,
        now: datetime,
        *,
        limit: int | None = None,
        codes: Sequence[str] | None = None,
        kecamatan: str | None = None,
        all_villages: bool = False,
    ) -> list[VillageForPoll]:
        """Villages with a url whose next check is due, oldest due first."""
        last_ms = (
            select(Check.duration_ms)
            .where(Check.village_code == Village.code, Check.started_at == Village.last_checked_at)
            .limit(1)
            .scalar_subquery()
        )
        q = select(Village, last_ms, _open_post_url()).where(
            col(Village.in_config), Village.url != ""
        )
        if not all_villages:
            q = q.where(
                or_(col(Village.next_check_at).is_(None), col(Village.next_check_at) <= now)
            )
        if codes:
            q = q.where(col(Village.code).in_(list(codes)))
        if kecamatan:
            q = q.where(Village.kecamatan_code == kecamatan)
        q = q.order_by(col(Village.next_check_at))
        if limit:
            q = q.limit(limit)
        with Session(self.engine) as s:
            return [self._for_poll(v, ms, post) for v, ms, post in s.exec(q).all()]

    def _for_poll(
        self, v: Village, last_duration_ms: int | None = None, open_post: str | None = None
    ) -> VillageForPoll:
        return VillageForPoll(
            code=v.code,
            url=v.url,
            platform=v.platform,
            feed_url=v.feed_url,
            validators=json.loads(v.validators or "{}"),
            consecutive_failures=v.consecutive_failures,
            failing_since=v.failing_since,
            consecutive_ok=v.consecutive_ok,
            posts_30d=v.posts_30d,
            detected_platform=v.detected_platform,
            rules=self.html_rules.get(v.html_rules) if v.html_rules else None,
            integrity_checked_at=v.integrity_checked_at,
            last_duration_ms=last_duration_ms,
            cookies=_json_object(v.cookies),
            open_post_finding=open_post,
            plan=_json_object(v.plan),  # poll plan (migration 0011)
        )

    def claim_due(self, now: datetime, lease_seconds: float, limit: int) -> list[VillageForPoll]:
        """Take due villages for distributed polling: each gets a lease (next_check_at moved
        ahead), so the next dispatch doesn't queue it again while it is being polled; the
        poll's own result then sets the real next time. A dead worker's lease just expires.

        Slowest first, like the poller's pass (`expected_ms`): villages are taken by their
        due time less their last check's duration, so a site that took the whole deadline
        last time is queued ahead of quick ones due at about the same time (and never more
        than its own duration ahead); never-checked villages count as slowest."""
        from sqlalchemy import extract

        last_ms = (
            select(Check.duration_ms)
            .where(Check.village_code == Village.code, Check.started_at == Village.last_checked_at)
            .limit(1)
            .scalar_subquery()
        )
        due_s = extract("epoch", func.coalesce(col(Village.next_check_at), now))
        unknown_ms = 10**9  # never checked: ahead of any due village with a duration
        start_by = due_s - func.coalesce(last_ms, unknown_ms) / 1000.0
        with self._write_lock, Session(self.engine) as s:
            rows = s.exec(
                select(Village, last_ms, _open_post_url())
                .where(col(Village.in_config), Village.url != "")
                .where(or_(col(Village.next_check_at).is_(None), col(Village.next_check_at) <= now))
                .order_by(start_by)
                .limit(limit)
                .with_for_update(skip_locked=True, of=Village)
            ).all()
            claimed = [self._for_poll(v, ms, post) for v, ms, post in rows]
            for v, _ms, _post in rows:
                v.next_check_at = now + timedelta(seconds=lease_seconds)
                s.add(v)
            s.commit()
        return claimed

    def last_checked_at(self, code: str) -> datetime | None:
        """Start time of the village's newest check (offline checks included)."""
        with Session(self.engine) as s:
            newest: datetime | None = s.exec(
                select(func.max(Check.started_at)).where(Check.village_code == code)
            ).one()
            return newest

    def overdue_stats(self, now: datetime) -> dict[str, Any]:
        """Backlog of the dispatcher: how many polls are overdue and by how long."""
        with Session(self.engine) as s:
            q = select(func.count(), func.min(Village.next_check_at)).where(
                col(Village.in_config), Village.url != "", col(Village.next_check_at) <= now
            )
            count, oldest = s.exec(q).one()
        lateness = (now - oldest).total_seconds() if oldest else 0.0
        return {"overdue": int(count), "max_lateness_s": round(lateness, 1)}

    # -- writes -----------------------------------------------------------------------

    def record_poll(self, outcome: PollOutcome, decision: Decision) -> int:
        """Store one poll: its Check row, the schedule, and what it harvested. Returns new items."""
        with self._write_lock, Session(self.engine) as s:
            new = self._apply_poll(s, s.get(Village, outcome.village_code), outcome, decision)
            s.commit()
            return new

    def record_polls(self, batch: Sequence[tuple[PollOutcome, Decision]]) -> list[int | Exception]:
        """Store many polls in one transaction (the poller's batching writer): new items per
        poll, in order. If the batch fails as a whole, each poll is written on its own, so
        one bad row costs only its own poll, returned as its exception."""
        if not batch:
            return []
        with self._write_lock:
            try:
                with Session(self.engine) as s:
                    codes = list({o.village_code for o, _ in batch})
                    rows = {
                        v.code: v
                        for v in s.exec(select(Village).where(col(Village.code).in_(codes))).all()
                    }
                    found = compromised_counts(s, codes)  # one query, not one per poll
                    # Each poll's queries read only its own village's rows: the checks and
                    # village updates of the batch are flushed together at the commit.
                    with s.no_autoflush:
                        results: list[int | Exception] = [
                            self._apply_poll(
                                s, rows.get(o.village_code), o, d, found.get(o.village_code, 0)
                            )
                            for o, d in batch
                        ]
                    s.commit()
                    return results
            except Exception:
                log.exception("a batch of %d polls failed; writing them one by one", len(batch))
        out: list[int | Exception] = []
        for outcome, decision in batch:
            try:
                out.append(self.record_poll(outcome, decision))
            except Exception as e:
                out.append(e)
        return out

    def _apply_poll(
        self,
        s: Session,
        v: Village | None,
        outcome: PollOutcome,
        decision: Decision,
        findings: int | None = None,
    ) -> int:
        if v is None:
            log.warning("village=%s: poll result for unknown village dropped", outcome.village_code)
            return 0
        fresh: list[dict[str, Any]] = []
        edited = False
        h = outcome.harvest
        if outcome.ok and h is not None:
            fresh, edited = self._merge_items(s, v.code, h.items, outcome.started_at)
            if h.services:
                self._merge_services(s, v.code, h.services, outcome.started_at)
            for name, value in h.metrics.items():
                s.add(
                    MetricSample(village_code=v.code, name=name, value=value, at=outcome.started_at)
                )
            if not h.not_modified:  # a 304 tells nothing about the platform
                v.detected_platform = h.platform
                v.platform_version = h.version or v.platform_version
            v.feed_url = h.feed_url or v.feed_url
            v.last_success_at = outcome.started_at
        if outcome.validators:
            v.validators = json.dumps(dict(outcome.validators), sort_keys=True)
        if outcome.plan is not None:  # poll plan (migration 0011)
            v.plan = json.dumps(dict(outcome.plan), sort_keys=True)
        if outcome.cookies is not None:
            cookies = json.dumps(dict(outcome.cookies), sort_keys=True)
            if cookies != v.cookies:
                v.cookies = cookies
        s.add(
            Check(
                village_code=v.code,
                started_at=outcome.started_at,
                duration_ms=outcome.duration_ms,
                ok=outcome.ok,
                phase=outcome.phase,
                status_code=outcome.status_code,
                message=(outcome.message or "")[:1000] or None,
                url=outcome.url,
                bytes=outcome.bytes,
                changed=bool(fresh) or edited,
                new_items=len(fresh),
            )
        )
        if outcome.phase != "offline":  # our outage says nothing about the village
            v.last_checked_at = outcome.started_at
            v.last_check_ok = outcome.ok
            v.last_error_phase = None if outcome.ok else outcome.phase
            v.last_error_message = None if outcome.ok else outcome.message
        v.next_check_at = decision.next_check_at
        v.consecutive_failures = decision.consecutive_failures
        v.consecutive_ok = decision.consecutive_ok
        v.failing_since = decision.failing_since
        # An edit may move the counts either way: count again. New items only add to them;
        # unchanged news only ages, and score_all recounts every 10 min.
        if edited or v.status_since is None:
            recount = True
        else:
            recount = False
            self._add_to_counts(v, fresh, outcome.started_at)
        self._refresh_village(s, v, outcome.started_at, recount=recount, findings=findings)
        s.add(v)
        return len(fresh)

    @staticmethod
    def _add_to_counts(v: Village, fresh: list[dict[str, Any]], now: datetime) -> None:
        """The derived counts after inserting `fresh` rows, as `_refresh_village` counts."""
        horizon, month_ago = now + FUTURE_GRACE, now - RECENT_WINDOW
        legit = [
            r["published_at"]
            for r in fresh
            if not r["is_spam"] and r["published_at"] is not None and r["published_at"] <= horizon
        ]
        v.news_count += len(fresh)
        v.posts_30d += sum(1 for at in legit if at >= month_ago)
        if legit:
            newest = max(legit)
            last = v.last_post_at
            v.last_post_at = newest if last is None or last < newest else last

    def _merge_items(
        self, s: Session, code: str, items: Iterable[ParsedItem], now: datetime
    ) -> tuple[list[dict[str, Any]], bool]:
        """Insert new items, update edited ones; returns (the new rows, whether any stored
        item was edited)."""
        items = [i for i in items if not i.known]  # stored by an earlier poll, unchanged
        if not items:
            return [], False
        guids = [i.guid for i in items if i.guid]
        urls = [i.url for i in items if i.url]
        # The hash identifies only items with neither guid nor url (see dedup_keys).
        hashes = [i.content_hash for i in items if not i.guid and not i.url]
        conn = s.connection()
        rows = conn.execute(
            _EXISTING, {"code": code, "guids": guids, "urls": urls, "hashes": hashes}
        ).all()
        index: dict[tuple[str, str], Any] = {}
        for row in rows:
            identities = [("guid", row.guid), ("url", row.url)]
            if not row.guid and not row.url:
                identities.append(("hash", row.content_hash))
            for kind, value in identities:
                if value:
                    index.setdefault((kind, value), row)
        edited = False
        fresh: list[dict[str, Any]] = []  # inserted in one statement (no ORM object per item)
        seen_new: set[tuple[str, str]] = set()
        for item in items:
            keys = dedup_keys(item)
            if any(k in seen_new for k in keys):
                continue  # the same item twice in one harvest
            found = next((index[k] for k in keys if k in index), None)
            if found is None:
                fresh.append(
                    {
                        "village_code": code,
                        "dedup_key": _dedup_key(*keys[0]),
                        "first_seen": now,
                        "guid": item.guid,
                        "url": item.url,
                        "title": item.title,
                        "summary": item.summary,
                        "published_at": item.published_at,
                        "category": item.category,
                        "thumbnail": item.thumbnail,
                        "content_hash": item.content_hash,
                        "is_spam": item.spam,
                        "source": item.source,
                    }
                )
                seen_new.update(keys)
                continue
            if (found.content_hash, found.title, found.is_spam) == (
                item.content_hash,
                item.title,
                item.spam,
            ):
                continue
            edited = True  # an edited article: keep its identity, take the new text
            values: dict[str, Any] = {
                "title": item.title,
                "summary": item.summary,
                "category": item.category,
                "thumbnail": item.thumbnail,
                "content_hash": item.content_hash,
                "is_spam": item.spam,
                **({"guid": item.guid} if item.guid else {}),
                **({"url": item.url} if item.url else {}),
                **({"published_at": item.published_at} if item.published_at else {}),
            }
            conn.execute(update(NewsItem).where(col(NewsItem.id) == found.id).values(values))
        if fresh:
            s.connection().execute(insert(NewsItem), fresh)
        return fresh, edited

    def _merge_services(
        self, s: Session, code: str, services: Iterable[Any], now: datetime
    ) -> None:
        existing = {r.kind: r for r in s.exec(select(Service).where(Service.village_code == code))}
        for obs in services:
            row = existing.get(obs.kind) or Service(village_code=code, kind=obs.kind)
            row.available, row.count, row.last_date = obs.available, obs.count, obs.last_date
            row.url, row.checked_at = obs.url, now
            s.add(row)

    def _refresh_village(
        self,
        s: Session,
        v: Village,
        now: datetime,
        *,
        recount: bool = True,
        findings: int | None = None,
    ) -> None:
        """Recompute the derived columns of one village (last post, counts, status);
        without `recount` the news counts are taken as they are; `findings` is its number
        of open compromised findings when the caller already knows it."""
        if recount:
            s.flush()
            legit = legit_news(now)
            recent = legit & (col(NewsItem.published_at) >= now - RECENT_WINDOW)
            last_post, recent_count, count = s.exec(
                select(
                    func.max(NewsItem.published_at).filter(legit),
                    func.count(col(NewsItem.id)).filter(recent),
                    func.count(col(NewsItem.id)),
                ).where(NewsItem.village_code == v.code)
            ).one()
        else:
            last_post, recent_count, count = v.last_post_at, v.posts_30d, v.news_count
        if findings is None:
            findings = compromised_counts(s, [v.code]).get(v.code, 0)
        v.last_post_at = last_post
        v.posts_30d = int(recent_count)
        v.news_count = int(count)
        status = derive_status(
            has_url=bool(v.url),
            consecutive_failures=v.consecutive_failures,
            last_post_at=last_post,
            open_findings=int(findings),
            now=now,
            settings=self.settings,
            consecutive_ok=v.consecutive_ok,
            previous=v.status if v.status_since is not None else None,
        )
        if status != v.status or v.status_since is None:
            if v.status_since is not None:
                # DEBUG: the poller logs a village's one INFO line per pass (poll plan work)
                log.debug("village=%s url=%s: status %s -> %s", v.code, v.url, v.status, status)
            v.status, v.status_since = status, now

    def record_integrity(self, code: str, report: Any, now: datetime) -> list[AlertEvent]:
        """Apply one integrity scan (aggregator.watch.IntegrityReport): open or update
        findings, resolve them after two clean scans in a row; returns the state changes."""
        events: list[AlertEvent] = []
        with self._write_lock, Session(self.engine) as s:
            v = s.get(Village, code)
            if v is None:
                return events
            # A post-body finding is not this scan's to update or resolve: the scan never
            # looked at that older post (aggregator.post_findings says how it resolves).
            open_rows = {
                f.kind: f
                for f in s.exec(
                    select(Finding).where(
                        Finding.village_code == code,
                        Finding.status == "open",
                        Finding.kind != POST_KIND,
                    )
                ).all()
            }

            def event(name: str, f: Finding) -> AlertEvent:
                return AlertEvent(
                    name, code, v.name, f.kind, f.level, f.url, f.evidence, now.isoformat()
                )

            for fr in report.findings:
                row = open_rows.get(fr.kind)
                if row is None:
                    row = Finding(village_code=code, kind=fr.kind, first_seen=now, status="open")
                    open_rows[fr.kind] = row
                    opened = True
                else:
                    opened = False
                row.url, row.evidence, row.last_seen = fr.url, fr.evidence, now
                row.level, row.score, row.signals = fr.level, fr.score, ",".join(fr.signals)
                s.add(row)
                if opened:
                    events.append(event("finding_opened", row))
            if report.level in ("clean", "clean_with_notes"):
                v.integrity_clean_streak += 1
                if v.integrity_clean_streak >= 2:  # two clean scans in a row: resolved
                    for row in open_rows.values():
                        row.status, row.resolved_at = "resolved", now
                        s.add(row)
                        events.append(event("finding_resolved", row))
            elif report.level != "inconclusive":
                v.integrity_clean_streak = 0
            v.integrity_checked_at, v.integrity_level = now, report.level
            self._refresh_village(s, v, now)
            s.add(v)
            s.commit()
        for e in events:
            log.warning("village=%s: %s %s (%s)", code, e.event, e.kind, e.url)
        return events

    def acknowledge_finding(self, finding_id: int, user: str, now: datetime) -> bool:
        """An officer has seen the finding; who and when are recorded."""
        with self._write_lock, Session(self.engine) as s:
            row = s.get(Finding, finding_id)
            if row is None:
                return False
            row.acknowledged_by, row.acknowledged_at = user, now
            s.add(row)
            s.commit()
            return True

    def refresh_statuses(self, now: datetime) -> int:
        """Re-derive every village's status (time alone moves villages from active to quiet)."""
        changed = 0
        with self._write_lock, Session(self.engine) as s:
            for v in s.exec(select(Village)).all():
                before = v.status
                self._refresh_village(s, v, now)
                if v.status != before:
                    changed += 1
                    s.add(v)
            s.commit()
        return changed

    def mark_all_due(self, now: datetime) -> None:
        """Make every village due now (used by `poll --once`)."""
        with self._write_lock, Session(self.engine) as s:
            s.connection().execute(update(Village).values(next_check_at=now))
            s.commit()
