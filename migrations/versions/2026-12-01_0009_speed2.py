"""A logged-in viewer's kept pages: a counter per user and one for every viewer, bumped in the same
transaction as any change those pages show (api/core/viewerversion.py).

Revision ID: 0009_speed2
Revises: 0008_judging
Create Date: 2026-12-01 23:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_speed2'
down_revision: str | Sequence[str] | None = '0008_judging'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'viewer_version',
        sa.Column('scope', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('scope', name=op.f('pk_viewer_version')),
    )


def downgrade() -> None:
    op.drop_table('viewer_version')
