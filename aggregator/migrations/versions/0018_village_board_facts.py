"""the newest yardstick collection's ranking facts on the village

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 10:15:00.000000

The kabupaten board ranks every village by its newest collection's HTTPS, certificate and
domain facts, its number of to-dos and their themes. Copied onto the village row when a
collection is recorded (as the two scores already are), they are read without joining the
whole, ever-growing yardstick history; existing villages are filled from their newest
collection here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPIED = ("https_offered", "cert_days_left", "cert_problem", "domain_days_left", "coaching_items")
# The coaching themes as yardsticks.board.themes_field writes them: ",keamanan,sid," (sorted).
THEMES = ("keamanan", "keterbukaan", "sid")


def upgrade() -> None:
    with op.batch_alter_table("village", schema=None) as batch_op:
        batch_op.add_column(sa.Column("https_offered", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("cert_days_left", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("cert_problem", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("domain_days_left", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("coaching_items", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "coaching_themes",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="",
            )
        )
    # The report is json.dumps'd with the default separators: an item reads '"theme": "sid"'.
    listed = " || ".join(
        f"""CASE WHEN y.report LIKE '%"theme": "{t}"%' THEN '{t},' ELSE '' END""" for t in THEMES
    )
    sets = ", ".join(f"{c} = y.{c}" for c in COPIED)
    op.execute(
        f"UPDATE village SET {sets}, coaching_themes = "
        f"CASE WHEN ({listed}) = '' THEN '' ELSE ',' || {listed} END "
        "FROM yardstickcheck AS y "
        "WHERE y.village_code = village.code AND y.checked_at = village.yardsticks_checked_at"
    )


def downgrade() -> None:
    with op.batch_alter_table("village", schema=None) as batch_op:
        for column in ("coaching_themes", *reversed(COPIED)):
            batch_op.drop_column(column)
