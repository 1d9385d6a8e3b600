"""alert sends and alert state

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-06 08:00:00.000000

`alertsend` records every alert to every target (queued, sent, failed, skipped as a
duplicate); `alertstate` keeps what the alerts job last saw (village statuses, kecamatan
readiness, the last digest), so a change against it becomes one event.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aggregator.models import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alertsend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("target_label", sa.String(length=200), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alertsend_created_at", "alertsend", ["created_at"])
    op.create_index("ix_alertsend_status_next", "alertsend", ["status", "next_try_at"])
    op.create_index("ix_alertsend_target_created", "alertsend", ["target", "created_at"])
    op.create_table(
        "alertstate",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("alertstate")
    op.drop_index("ix_alertsend_target_created", table_name="alertsend")
    op.drop_index("ix_alertsend_status_next", table_name="alertsend")
    op.drop_index("ix_alertsend_created_at", table_name="alertsend")
    op.drop_table("alertsend")
