"""site cookies and news source

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 07:40:00.000000

`village.cookies` keeps each site's session cookies across polls and restarts, so a
village's visitor counter sees Sipande as one returning visitor (aggregator/fetch/cookies.py).
`newsitem.source` says how an item is known to be published news: "feed", "rest",
"api", "arsip" or "html" (rows stored before this revision came from the feed or from a
sitemap backfill; they are marked "feed").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("village", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cookies", sa.Text(), nullable=False, server_default="{}"))
    with op.batch_alter_table("newsitem", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="feed")
        )


def downgrade() -> None:
    with op.batch_alter_table("newsitem", schema=None) as batch_op:
        batch_op.drop_column("source")
    with op.batch_alter_table("village", schema=None) as batch_op:
        batch_op.drop_column("cookies")
