"""the news category in the village's news index

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 22:00:00.000000

A kecamatan page lists the categories of its villages' news with counts. That grouping read
every news row of the kecamatan from the table: ~31,000 rows and 90-150 ms for the busiest
kecamatan of a national store (bench/bench_scale.py). With the category as the last column
of the village's news index (village, spam, published) the same query reads the index alone,
~22 ms; every query that used the index's first three columns still does.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("ix_newsitem_village_spam_published", ["village_code", "is_spam", "published_at"])
NEW = ("ix_newsitem_village_spam_published_category", [*OLD[1], "category"])


def _swap(drop: tuple[str, list[str]], create: tuple[str, list[str]]) -> None:
    with op.batch_alter_table("newsitem", schema=None) as batch_op:
        batch_op.create_index(create[0], create[1], unique=False)
        batch_op.drop_index(drop[0])


def upgrade() -> None:
    _swap(OLD, NEW)


def downgrade() -> None:
    _swap(NEW, OLD)
