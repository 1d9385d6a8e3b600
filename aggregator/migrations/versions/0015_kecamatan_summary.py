"""kecamatan summary and district history

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-06 08:00:00.000000

The overview's and the kecamatan pages' roll-ups kept in a table instead of counted per
request: `kecamatansummary` holds one row per kecamatan with villages in the config;
`kecamatandirty` marks the kecamatan whose row may be stale. Triggers on `village` (every
insert, delete, and update of a column the summary reads) add the mark in the writing
transaction; aggregator.store.summary rewrites marked rows after the writer commits, and
readers count a marked kecamatan from its villages until then. The summary is filled here
from the villages already stored.

`districtsnapshot` holds the kabupaten's (or country's) daily totals, the day's kecamatan
roll-ups of the kecamatan in the config summed, so that the overview's 90-day trend reads 90
rows instead of summing 630,000 roll-ups; filled here from the roll-ups already stored.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out so this revision never changes (aggregator.store.summary has the live query).
STATUSES = ("active", "low_activity", "inactive", "unreachable", "compromised", "no_site")
WATCHED = (
    "kecamatan_code", "url", "in_config", "status", "score", "kip_score", "security_score",
    "last_post_at",
)  # fmt: skip
TRIGGERS = ("village_summary_insert", "village_summary_delete", "village_summary_update")
PG_FUNCTION = "village_summary_mark"


def _on_site(column: str) -> str:
    known = f"url != '' AND {column} IS NOT NULL"
    return (
        f"sum(CASE WHEN {known} THEN {column} ELSE 0.0 END), "
        f"sum(CASE WHEN {known} THEN 1 ELSE 0 END)"
    )


FILL = (
    "INSERT INTO kecamatansummary (kecamatan_code, villages, with_site, site_active, "
    + ", ".join(f"n_{s}" for s in STATUSES)
    + ", score_sum, score_n, kip_sum, kip_n, security_sum, security_n, last_post_at) "
    "SELECT kecamatan_code, count(*), sum(CASE WHEN url != '' THEN 1 ELSE 0 END), "
    "sum(CASE WHEN url != '' AND status = 'active' THEN 1 ELSE 0 END), "
    + ", ".join(f"sum(CASE WHEN status = '{s}' THEN 1 ELSE 0 END)" for s in STATUSES)
    + f", {_on_site('score')}, {_on_site('kip_score')}, {_on_site('security_score')}, "
    "max(last_post_at) FROM village WHERE in_config GROUP BY kecamatan_code"
)


def _district_fill(dialect: str) -> str:
    def count_of(status: str) -> str:
        if dialect == "postgresql":
            return f"sum(coalesce(CAST(CAST(k.counts AS JSONB) ->> '{status}' AS INTEGER), 0))"
        return f"sum(coalesce(json_extract(k.counts, '$.{status}'), 0))"

    def weighted(column: str) -> str:
        return (
            f"sum(k.{column} * k.villages), "
            f"sum(CASE WHEN k.{column} IS NOT NULL THEN k.villages ELSE 0 END)"
        )

    return (
        "INSERT INTO districtsnapshot (day, villages, ready, "
        + ", ".join(f"n_{s}" for s in STATUSES)
        + ", score_sum, score_weight, kip_sum, kip_weight, security_sum, security_weight) "
        "SELECT k.day, sum(k.villages), sum(CASE WHEN k.ready THEN 1 ELSE 0 END), "
        + ", ".join(count_of(s) for s in STATUSES)
        + f", {weighted('mean_score')}, {weighted('mean_kip')}, {weighted('mean_security')} "
        "FROM kecamatansnapshot AS k JOIN kecamatan ON kecamatan.code = k.kecamatan_code "
        "WHERE kecamatan.in_config GROUP BY k.day"
    )


def _mark(which: str, extra: str = "") -> str:
    return (
        f"INSERT INTO kecamatandirty (kecamatan_code) SELECT {which}.kecamatan_code "
        f"WHERE {extra}NOT EXISTS (SELECT 1 FROM kecamatandirty "
        f"WHERE kecamatan_code = {which}.kecamatan_code)"
    )


def _sqlite_triggers() -> list[str]:
    on_insert, on_delete, on_update = TRIGGERS
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in WATCHED)
    moved = "old.kecamatan_code IS NOT new.kecamatan_code AND "
    return [
        f"CREATE TRIGGER {on_insert} AFTER INSERT ON village BEGIN {_mark('new')}; END",
        f"CREATE TRIGGER {on_delete} AFTER DELETE ON village BEGIN {_mark('old')}; END",
        f"CREATE TRIGGER {on_update} AFTER UPDATE OF {', '.join(WATCHED)} ON village "
        f"WHEN {changed} BEGIN {_mark('new')}; {_mark('old', moved)}; END",
    ]


def _postgresql_triggers() -> list[str]:
    on_insert, on_delete, on_update = TRIGGERS
    olds = ", ".join(f"OLD.{c}" for c in WATCHED)
    news = ", ".join(f"NEW.{c}" for c in WATCHED)
    return [
        f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'DELETE' THEN {_mark('NEW')}; END IF; "
        "IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND "
        f"OLD.kecamatan_code IS DISTINCT FROM NEW.kecamatan_code) THEN {_mark('OLD')}; END IF; "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER {on_insert} AFTER INSERT ON village "
        f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
        f"CREATE TRIGGER {on_delete} AFTER DELETE ON village "
        f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
        f"CREATE TRIGGER {on_update} AFTER UPDATE OF {', '.join(WATCHED)} ON village "
        f"FOR EACH ROW WHEN (({olds}) IS DISTINCT FROM ({news})) "
        f"EXECUTE FUNCTION {PG_FUNCTION}()",
    ]


def upgrade() -> None:
    op.create_table(
        "kecamatansummary",
        sa.Column("kecamatan_code", sa.String(length=16), nullable=False),
        sa.Column("villages", sa.Integer(), nullable=False),
        sa.Column("with_site", sa.Integer(), nullable=False),
        sa.Column("site_active", sa.Integer(), nullable=False),
        *[sa.Column(f"n_{s}", sa.Integer(), nullable=False) for s in STATUSES],
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.Column("score_n", sa.Integer(), nullable=False),
        sa.Column("kip_sum", sa.Float(), nullable=False),
        sa.Column("kip_n", sa.Integer(), nullable=False),
        sa.Column("security_sum", sa.Float(), nullable=False),
        sa.Column("security_n", sa.Integer(), nullable=False),
        sa.Column("last_post_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kecamatan_code"),
    )
    op.create_table(
        "kecamatandirty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kecamatandirty", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kecamatandirty_kecamatan_code"), ["kecamatan_code"], unique=False
        )
    op.create_table(
        "districtsnapshot",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("villages", sa.Integer(), nullable=False),
        sa.Column("ready", sa.Integer(), nullable=False),
        *[sa.Column(f"n_{s}", sa.Integer(), nullable=False) for s in STATUSES],
        sa.Column("score_sum", sa.Float(), nullable=True),
        sa.Column("score_weight", sa.Integer(), nullable=False),
        sa.Column("kip_sum", sa.Float(), nullable=True),
        sa.Column("kip_weight", sa.Integer(), nullable=False),
        sa.Column("security_sum", sa.Float(), nullable=True),
        sa.Column("security_weight", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.execute(FILL)
    op.execute(_district_fill(op.get_bind().dialect.name))
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in _sqlite_triggers() if sqlite else _postgresql_triggers():
        op.execute(sql)


def downgrade() -> None:
    for trigger in TRIGGERS:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON village")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    with op.batch_alter_table("kecamatandirty", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kecamatandirty_kecamatan_code"))
    op.drop_table("districtsnapshot")
    op.drop_table("kecamatandirty")
    op.drop_table("kecamatansummary")
