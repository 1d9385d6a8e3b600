"""news search vector column

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 05:10:00.000000

PostgreSQL only: a GIN index on an expression makes PostgreSQL compute the
tsvector again for every row it rechecks (lossy bitmap pages) or filters while walking the
date index: 0.5-1 s for a common word, 20 s for a word found nowhere. The words are now
kept in a STORED generated column, `newsitem.search_vector`, with the GIN index on it; the
database fills it on every insert and update of title or summary. The column is not in the
models (SQLite has its FTS5 table instead) and is left out of model comparison
(aggregator.models.in_model_metadata). On a store of 2,000,000 news items the ALTER
rewrites the table: a few minutes under an exclusive lock.
"""

from collections.abc import Sequence

from alembic import op

# As in aggregator.models (NEWS_SEARCH_COLUMN ...); spelled out so this revision never changes.
NEWS_SEARCH_COLUMN = "search_vector"
NEWS_SEARCH_INDEX = "ix_newsitem_search"
NEWS_TSVECTOR = "to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(summary, ''))"
OLD_TSVECTOR = "to_tsvector('simple', title || ' ' || summary)"  # 0008's expression index

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {NEWS_SEARCH_INDEX}")
    op.execute(
        f"ALTER TABLE newsitem ADD COLUMN {NEWS_SEARCH_COLUMN} tsvector "
        f"GENERATED ALWAYS AS ({NEWS_TSVECTOR}) STORED"
    )
    op.execute(f"CREATE INDEX {NEWS_SEARCH_INDEX} ON newsitem USING gin ({NEWS_SEARCH_COLUMN})")
    # The planner's word frequencies for the new column: which plan a search gets (a few
    # matches sorted, or the newest items walked) depends on them.
    op.execute("ANALYZE newsitem")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {NEWS_SEARCH_INDEX}")
    op.execute(f"ALTER TABLE newsitem DROP COLUMN IF EXISTS {NEWS_SEARCH_COLUMN}")
    op.execute(f"CREATE INDEX {NEWS_SEARCH_INDEX} ON newsitem USING gin ({OLD_TSVECTOR})")
