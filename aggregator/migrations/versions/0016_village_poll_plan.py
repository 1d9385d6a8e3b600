"""village poll plan

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 08:00:00.000000

`village.plan` keeps each village's poll plan (JSON): when each part of a poll (home page,
each service page) was last read in full, so a steady poll reads only what is due.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("village", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan", sa.Text(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("village", schema=None) as batch_op:
        batch_op.drop_column("plan")
