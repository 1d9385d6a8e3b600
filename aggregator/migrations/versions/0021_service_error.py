"""a service page that answers with an error

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 07:00:00.000000

`service.error` says why the last read of a service page failed ("HTTP 500"), None when it
answered. A real OpenSID 2410 with its bundled esensi theme answers 500 on lapak, pemerintah,
pembangunan and pengaduan whatever their content (tests/fixtures/opensid_real, docs/design.md):
such a page was shown as "belum terbaca" although it was read every day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_column("error")
