"""Tables of the store (docs/design.md). SQLModel is used for tables only; data passed between
steps are frozen dataclasses. Every timestamp is timezone-aware UTC on the way out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC; SQLite drops the offset, so re-attach it on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; attach a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        tz = value.tzinfo
        if tz is UTC:  # PostgreSQL sessions run in UTC (store/base.py): most reads
            return value
        return value.replace(tzinfo=UTC) if tz is None else value.astimezone(UTC)


# Full-text search of news, kept outside the model metadata because it differs by
# database; created by migrations 0008 and 0009 and maintained by the database itself:
#  - SQLite: an FTS5 table over title and summary with `newsitem` as its external content,
#    kept in sync by three triggers;
#  - PostgreSQL: NEWS_SEARCH_COLUMN, a STORED generated tsvector column of title and summary
#    (the 'simple' configuration: no stemming or stop words, right for Indonesian) with a GIN
#    index, plus a newest-first index matching the news order. The column is not a model
#    field: the ORM never reads or writes it, PostgreSQL fills it on insert and update.
NEWS_FTS_TABLE = "newsitem_fts"
NEWS_FTS_TRIGGERS = ("newsitem_fts_insert", "newsitem_fts_delete", "newsitem_fts_update")
NEWS_SEARCH_COLUMN = "search_vector"
NEWS_SEARCH_INDEX = "ix_newsitem_search"
NEWS_RECENT_INDEX = "ix_newsitem_recent"
_OUTSIDE_METADATA = {NEWS_SEARCH_INDEX, NEWS_RECENT_INDEX}


def in_model_metadata(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic `include_name` hook: False for the search objects above (FTS5's shadow tables,
    the tsvector column and the indexes), so comparing the database with the models (and
    `alembic revision --autogenerate`) ignores them."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(NEWS_FTS_TABLE)
    if type_ == "column":
        table = (parent_names or {}).get("table_name")
        return not (table == "newsitem" and name == NEWS_SEARCH_COLUMN)
    return name not in _OUTSIDE_METADATA


def _ts(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), index=index, nullable=nullable))


class Kecamatan(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=16)
    name: str
    kabupaten_code: str = Field(max_length=8)
    in_config: bool = True


class Village(SQLModel, table=True):
    __table_args__ = (
        # The overview's "needs attention" list: one status, longest-silent first.
        Index("ix_village_status_post", "status", "last_post_at"),
        # The kabupaten board: a page is a range of this index (yardsticks/board.py).
        Index(
            "ix_village_board", "in_config", "board_key", "code", "last_post_at", "coaching_items"
        ),
    )
    code: str = Field(primary_key=True, max_length=20)
    kecamatan_code: str = Field(foreign_key="kecamatan.code", index=True, max_length=16)
    name: str
    type: str = Field(default="desa", max_length=16)
    url: str = ""
    platform: str = Field(default="auto", max_length=16)  # as configured
    detected_platform: str | None = None
    platform_version: str | None = None
    feed_url: str | None = None
    html_rules: str = ""  # name of the config's html_rules entry for `html` sites
    in_config: bool = True  # False once removed from the file: kept, not polled, not deleted
    # The schedule lives here (docs/design.md).
    next_check_at: datetime | None = _ts(index=True)
    consecutive_failures: int = 0
    consecutive_ok: int = 0
    failing_since: datetime | None = _ts()
    last_checked_at: datetime | None = _ts()
    last_check_ok: bool | None = None
    last_error_phase: str | None = None
    last_error_message: str | None = None
    last_success_at: datetime | None = _ts()
    validators: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    # The site's cookies (host → name → value): its session outlives polls and restarts, so
    # the village's visitor counter sees Sipande as one returning visitor (fetch/cookies.py).
    cookies: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    # The poll plan (VillageForPoll.plan): when each part of a poll was last read in full.
    plan: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    # Derived, refreshed after every poll and by the housekeeping job.
    last_post_at: datetime | None = _ts()
    posts_30d: int = 0
    news_count: int = 0
    status: str = Field(default="no_site", index=True, max_length=16)
    status_since: datetime | None = _ts()
    score: float | None = None
    integrity_checked_at: datetime | None = _ts()
    integrity_level: str | None = Field(default=None, max_length=20)
    integrity_clean_streak: int = 0
    kip_score: float | None = None  # Keterbukaan Informasi, 0-100
    security_score: float | None = None  # Keamanan Digital, 0-100
    yardsticks_checked_at: datetime | None = _ts()
    # The newest collection's facts the kabupaten board ranks by (its report stays in
    # yardstickcheck): every village is ranked from this table, not from the whole history.
    https_offered: bool | None = None
    cert_days_left: int | None = None
    cert_problem: str | None = None
    domain_days_left: int | None = None
    coaching_items: int = 0
    coaching_themes: str = ""  # the themes of its to-dos, as yardsticks.board.themes_field
    # The board rank's time-independent part, kept by triggers (migration 0019) on every
    # write of the columns it reads and of the village's findings: yardsticks.board.
    board_key: int = 99_000_000
    cert_alerted: int = 0  # expiry thresholds already announced (yardsticks.ExpiryWatch)
    domain_alerted: int = 0
    score_components: str = Field(
        default="{}", sa_column=Column(Text, nullable=False, default="{}")
    )
    scored_at: datetime | None = _ts()


class NewsItem(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("village_code", "dedup_key", name="uq_newsitem_village_dedup"),
        Index("ix_newsitem_published", "published_at"),
        # A village's news, spam apart, newest first; also counts them, and a kecamatan's
        # categories, without the table (migration 0020).
        Index(
            "ix_newsitem_village_spam_published_category",
            "village_code",
            "is_spam",
            "published_at",
            "category",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="village.code", max_length=20)
    dedup_key: str = Field(max_length=80)  # "guid:<sha>" | "url:<sha>" | "hash:<sha>"
    guid: str | None = None
    url: str = ""
    title: str = ""
    summary: str = ""  # sanitised plain text
    published_at: datetime | None = _ts()
    category: str | None = None
    thumbnail: str | None = None
    first_seen: datetime | None = _ts(nullable=False)
    content_hash: str = Field(default="", max_length=64)
    is_spam: bool = False
    # How the item is known to be published news (ParsedItem.source): only such items are
    # stored; a sitemap lists drafts and static pages too, so it never confirms alone.
    source: str = Field(default="feed", max_length=16)


class Service(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("village_code", "kind", name="uq_service_village_kind"),)
    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="village.code", index=True, max_length=20)
    kind: str = Field(max_length=32)  # lapak, ppid, pengaduan, pembangunan, statistik, ...
    available: bool = False
    count: int | None = None
    last_date: datetime | None = _ts()
    url: str | None = None
    checked_at: datetime | None = _ts(nullable=False)
    # Why the last read failed ("HTTP 500"); None when the page answered. The fields above
    # keep the last answer's (aggregator/decide/scoring.py: service_state).
    error: str | None = Field(default=None, max_length=40)


class MetricSample(SQLModel, table=True):
    __table_args__ = (Index("ix_metric_village_name_at", "village_code", "name", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="village.code", max_length=20)
    name: str = Field(max_length=40)
    value: float
    at: datetime | None = _ts(nullable=False)


class Check(SQLModel, table=True):
    __table_args__ = (Index("ix_check_village_started", "village_code", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="village.code", max_length=20)
    started_at: datetime | None = _ts(nullable=False, index=True)
    duration_ms: int = 0
    ok: bool = False
    phase: str | None = Field(default=None, max_length=16)  # dns/connect/tls/http/parse
    status_code: int | None = None
    message: str | None = None
    url: str | None = None
    bytes: int = 0
    changed: bool = False
    new_items: int = 0


class Finding(SQLModel, table=True):
    __table_args__ = (Index("ix_finding_village_status", "village_code", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="village.code", max_length=20)
    kind: str = Field(max_length=40)
    url: str = ""
    evidence: str = ""
    first_seen: datetime | None = _ts(nullable=False)
    last_seen: datetime | None = _ts(nullable=False)
    status: str = Field(default="open", max_length=16)  # open | resolved
    level: str = Field(default="compromised", max_length=16)  # compromised | suspicious
    score: int = 0
    signals: str = ""  # signal codes behind the finding, comma-separated
    resolved_at: datetime | None = _ts()
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = _ts()


class ScoreSnapshot(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("village_code", "day", name="uq_score_village_day"),
        Index("ix_scoresnapshot_day", "day"),  # one day of every village (scoring run)
    )
    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="village.code", max_length=20)
    day: date
    score: float | None = None
    status: str = Field(max_length=16)
    components: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    # Reconstructed from the news archive on the village's first poll (status, freshness and
    # cadence only); a measured snapshot of the same day replaces it.
    reconstructed: bool = False


class KecamatanSnapshot(SQLModel, table=True):
    """Daily roll-up of one kecamatan: counts per status, mean score, readiness."""

    __table_args__ = (
        UniqueConstraint("kecamatan_code", "day", name="uq_kecsnap_kec_day"),
        Index("ix_kecamatansnapshot_day", "day"),  # the kabupaten trend reads days, not codes
    )
    id: int | None = Field(default=None, primary_key=True)
    kecamatan_code: str = Field(foreign_key="kecamatan.code", max_length=16)
    day: date
    villages: int = 0
    counts: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    mean_score: float | None = None
    mean_kip: float | None = None  # Keterbukaan Informasi
    mean_security: float | None = None  # Keamanan Digital
    ready: bool = False
    reconstructed: bool = False  # rebuilt from reconstructed village rows


class KecamatanSummary(SQLModel, table=True):
    """The live roll-up of one kecamatan's villages in the config (the overview's and the
    kecamatan pages' numbers): counts per status, sums for the mean yardsticks over villages
    with a site, newest post. Rewritten from the village rows of each kecamatan marked in
    KecamatanDirty (aggregator.store.summary); a kecamatan without villages has no row."""

    kecamatan_code: str = Field(primary_key=True, max_length=16)
    villages: int = 0
    with_site: int = 0
    site_active: int = 0
    n_active: int = 0
    n_low_activity: int = 0
    n_inactive: int = 0
    n_unreachable: int = 0
    n_compromised: int = 0
    n_no_site: int = 0
    score_sum: float = 0.0
    score_n: int = 0
    kip_sum: float = 0.0
    kip_n: int = 0
    security_sum: float = 0.0
    security_n: int = 0
    last_post_at: datetime | None = _ts()


class KecamatanDirty(SQLModel, table=True):
    """A kecamatan whose summary row may be stale: written by database triggers on every
    insert, delete and relevant update of a village, in the same transaction; removed by
    the refresh that rewrites the row (readers count a marked kecamatan live meanwhile)."""

    id: int | None = Field(default=None, primary_key=True)
    kecamatan_code: str = Field(index=True, max_length=16)


class DistrictSnapshot(SQLModel, table=True):
    """One day of the kabupaten (or country): the day's kecamatan roll-ups of the kecamatan
    in the config summed up, the means weighted by villages (weights counted where a mean
    is known). Rewritten with the roll-ups they sum (aggregator.store.history)."""

    day: date = Field(primary_key=True)
    villages: int = 0
    ready: int = 0
    reconstructed: bool = False  # a kecamatan row of the day was read from news archives
    n_active: int = 0
    n_low_activity: int = 0
    n_inactive: int = 0
    n_unreachable: int = 0
    n_compromised: int = 0
    n_no_site: int = 0
    score_sum: float | None = None
    score_weight: int = 0
    kip_sum: float | None = None
    kip_weight: int = 0
    security_sum: float | None = None
    security_weight: int = 0


class DistrictStale(SQLModel, table=True):
    """Days whose DistrictSnapshot must be summed again: a village's first poll rebuilt
    their kecamatan rows from its news archive; the scoring run sums them once (summing a
    year of a country's roll-ups per poll batch would not scale)."""

    day: date = Field(primary_key=True)


class CheckRollup(SQLModel, table=True):
    """Checks aggregated per village and hour or day: uptime and response time kept long
    after the raw checks are pruned."""

    __table_args__ = (
        UniqueConstraint("village_code", "period", "start", name="uq_rollup_village_period"),
        Index("ix_checkrollup_start", "start"),  # the roll-up job rewrites the last two days
    )
    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="village.code", max_length=20)
    period: str = Field(max_length=8)  # "hour" | "day"
    start: datetime | None = _ts(nullable=False)
    checks: int = 0
    ok: int = 0
    total_ms: int = 0
    max_ms: int = 0


class User(SQLModel, table=True):
    """A dashboard account: `dinkominfo` acts on the whole kabupaten, `kecamatan`
    only on its own kecamatan. The password is an argon2id hash, never the password."""

    # "user" is a reserved word in PostgreSQL; a plain name keeps raw SQL and psql easy.
    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("username", name="uq_app_user_username"),)
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    role: str = Field(max_length=16)  # dinkominfo | kecamatan
    # No foreign key: a user may be created before the districts file is first synced.
    kecamatan_code: str | None = Field(default=None, max_length=16)
    created_at: datetime | None = _ts(nullable=False)
    # Sessions are signed cookies: logging out moves this on, which ends every session
    # begun before it (a copied cookie included).
    sessions_since: datetime | None = _ts()


class SettingOverride(SQLModel, table=True):
    """A threshold changed from the dashboard; it wins over the districts file until reset."""

    key: str = Field(primary_key=True, max_length=64)  # "active_days", "scoring.weight_cadence"
    value: float
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime | None = _ts(nullable=False)


class YardstickCheck(SQLModel, table=True):
    """One collection of the KIP and security yardsticks for a village (kept for trends)."""

    __table_args__ = (Index("ix_yardstick_village_at", "village_code", "checked_at"),)
    id: int | None = Field(default=None, primary_key=True)
    village_code: str = Field(foreign_key="village.code", max_length=20)
    checked_at: datetime | None = _ts(nullable=False)
    kip_score: float | None = None
    security_score: float | None = None
    https_offered: bool | None = None
    https_enforced: bool | None = None
    cert_days_left: int | None = None
    cert_problem: str | None = None
    domain_days_left: int | None = None
    opensid_behind: int | None = None
    ppid_documents: int | None = None
    coaching_items: int = 0
    report: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))


class AlertSend(SQLModel, table=True):
    """One alert to one target: queued where the event happens, sent off the poll path by the
    alerts job, and kept as the record of that send (the admin page lists them)."""

    __table_args__ = (
        Index("ix_alertsend_status_next", "status", "next_try_at"),  # what is due to send
        Index("ix_alertsend_target_created", "target", "created_at"),  # dedupe, rate limit
    )
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime | None = _ts(index=True, nullable=False)
    event: str = Field(max_length=32)  # finding_opened, village_unreachable, digest, …
    region: str = Field(default="", max_length=20)  # village or kecamatan code; "" = kabupaten
    target: str = Field(max_length=32)  # a digest of the target URL (never the URL: tokens)
    target_label: str = Field(default="", max_length=200)  # the URL with its secrets masked
    dedupe_key: str = Field(default="", max_length=200)
    subject: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    status: str = Field(default="pending", max_length=16)  # pending|retry|sent|failed|duplicate
    attempts: int = 0
    next_try_at: datetime | None = _ts()
    sent_at: datetime | None = _ts()
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class AlertState(SQLModel, table=True):
    """What the alerts job last saw (a village's status, a kecamatan's readiness, the week of
    the last digest): a change against it is an event."""

    key: str = Field(primary_key=True, max_length=64)  # "village:33.03.01.2001", "digest"
    value: str = Field(default="", max_length=64)
    updated_at: datetime | None = _ts(nullable=False)
