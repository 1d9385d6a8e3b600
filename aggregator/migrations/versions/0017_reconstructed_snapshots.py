"""reconstructed daily snapshots

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 08:30:00.000000

A village's first poll reconstructs its past year of daily snapshots from its news archive;
`reconstructed` marks those rows (and the kecamatan rows rebuilt from them), which a measured
snapshot of the same day replaces; the kabupaten's stored day totals (districtsnapshot)
say whether any of the day's kecamatan rows was reconstructed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("scoresnapshot", "kecamatansnapshot", "districtsnapshot")


def upgrade() -> None:
    op.create_table(
        "districtstale", sa.Column("day", sa.Date(), nullable=False), sa.PrimaryKeyConstraint("day")
    )
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("reconstructed", sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("reconstructed")
    op.drop_table("districtstale")
