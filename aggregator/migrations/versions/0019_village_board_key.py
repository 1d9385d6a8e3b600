"""the kabupaten board's stored rank key on the village

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 13:40:00.000000

The board ranked all villages on every request. `village.board_key` keeps the part of a
village's rank that does not move with time: its urgency (no site or an open integrity
finding, then the newest collection's expired or soon expiring certificate or domain, a
certificate problem, no HTTPS, any stored to-do) times RANK_STEP, less its number of to-dos,
or UNRANKED when none of these holds. Whether such a village is quiet (no post for 30 days)
is the only time-dependent part, and the board reads it live. With an index on
(in_config, board_key, code, ...) a page is a range scan of that index.

Triggers keep the key in the writing transaction, whatever writes: every insert of a
village and every update of a column the key reads, and every insert, update or delete of
an integrity finding (its village's key is recomputed). Existing villages are filled here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out so this revision never changes (aggregator.yardsticks.board has the live names;
# CERT_DAYS and DOMAIN_DAYS are aggregator.yardsticks.coaching.CoachingSettings' defaults).
RANK_STEP = 1_000_000
UNRANKED = 99 * RANK_STEP
CERT_DAYS, DOMAIN_DAYS = 30, 60
WATCHED = (
    "url", "https_offered", "cert_days_left", "cert_problem", "domain_days_left",
    "coaching_items",
)  # fmt: skip
INDEX = "ix_village_board"
INDEXED = ("in_config", "board_key", "code", "last_post_at", "coaching_items")
SQLITE_TRIGGERS = (
    "village_board_insert", "village_board_update", "finding_board_insert",
    "finding_board_update", "finding_board_delete",
)  # fmt: skip
PG_TRIGGERS = (("village_board", "village"), ("finding_board", "finding"))
PG_FUNCTIONS = ("village_board_key", "finding_board_key")


def board_key(v: str) -> str:
    """The key of the village row `v` (a table name or NEW), as SQL."""
    return (
        f"CASE WHEN {v}.url = '' OR EXISTS (SELECT 1 FROM finding AS f "
        f"WHERE f.village_code = {v}.code AND f.status = 'open') THEN 0 "
        f"WHEN {v}.cert_problem = 'expired' OR {v}.domain_days_left < 0 THEN 1 "
        f"WHEN ({v}.https_offered AND {v}.cert_days_left <= {CERT_DAYS}) "
        f"OR {v}.domain_days_left <= {DOMAIN_DAYS} THEN 2 "
        f"WHEN {v}.https_offered AND {v}.cert_problem IS NOT NULL THEN 3 "
        f"WHEN NOT {v}.https_offered THEN 4 "
        f"WHEN {v}.coaching_items > 0 THEN 5 "
        f"ELSE {UNRANKED // RANK_STEP} END * {RANK_STEP} - {v}.coaching_items"
    )


def _refresh(code: str) -> str:
    return f"UPDATE village SET board_key = {board_key('village')} WHERE code = {code}"


def _sqlite_triggers() -> list[str]:
    v_insert, v_update, f_insert, f_update, f_delete = SQLITE_TRIGGERS
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in WATCHED)
    return [
        f"CREATE TRIGGER {v_insert} AFTER INSERT ON village BEGIN {_refresh('new.code')}; END",
        f"CREATE TRIGGER {v_update} AFTER UPDATE OF {', '.join(WATCHED)} ON village "
        f"WHEN {changed} BEGIN {_refresh('new.code')}; END",
        f"CREATE TRIGGER {f_insert} AFTER INSERT ON finding BEGIN "
        f"{_refresh('new.village_code')}; END",
        f"CREATE TRIGGER {f_update} AFTER UPDATE OF status, village_code ON finding BEGIN "
        f"{_refresh('new.village_code')}; {_refresh('old.village_code')}; END",
        f"CREATE TRIGGER {f_delete} AFTER DELETE ON finding BEGIN "
        f"{_refresh('old.village_code')}; END",
    ]


def _postgresql_triggers() -> list[str]:
    (v_trigger, _), (f_trigger, _) = PG_TRIGGERS
    v_function, f_function = PG_FUNCTIONS
    olds = ", ".join(f"OLD.{c}" for c in WATCHED)
    news = ", ".join(f"NEW.{c}" for c in WATCHED)
    return [
        f"CREATE FUNCTION {v_function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"NEW.board_key := {board_key('NEW')}; RETURN NEW; END $$",
        f"CREATE TRIGGER {v_trigger}_insert BEFORE INSERT ON village "
        f"FOR EACH ROW EXECUTE FUNCTION {v_function}()",
        f"CREATE TRIGGER {v_trigger}_update BEFORE UPDATE OF {', '.join(WATCHED)} ON village "
        f"FOR EACH ROW WHEN (({olds}) IS DISTINCT FROM ({news})) "
        f"EXECUTE FUNCTION {v_function}()",
        f"CREATE FUNCTION {f_function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_refresh('OLD.village_code')}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_refresh('NEW.village_code')}; END IF; "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER {f_trigger} AFTER INSERT OR DELETE OR UPDATE OF status, village_code "
        f"ON finding FOR EACH ROW EXECUTE FUNCTION {f_function}()",
    ]


def upgrade() -> None:
    with op.batch_alter_table("village", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("board_key", sa.Integer(), nullable=False, server_default=str(UNRANKED))
        )
    op.execute(f"UPDATE village SET board_key = {board_key('village')}")
    with op.batch_alter_table("village", schema=None) as batch_op:
        batch_op.create_index(INDEX, list(INDEXED), unique=False)
    # The planner's statistics for the new index: without them SQLite takes any equality on
    # its first column for a selective one and walks it for a kecamatan's dozen villages.
    op.execute("ANALYZE village")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for sql in _sqlite_triggers() if sqlite else _postgresql_triggers():
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        (v_trigger, _), (f_trigger, _) = PG_TRIGGERS
        for trigger, table in (
            (f"{v_trigger}_insert", "village"),
            (f"{v_trigger}_update", "village"),
            (f_trigger, "finding"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    with op.batch_alter_table("village", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_column("board_key")
