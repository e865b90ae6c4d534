"""Work once: a lesson's Markdown rendered and sanitised at content sync (kept with the digest of the
source it came from), and the version of the anonymous public pages, bumped whenever what they show
changes, so every app process knows when to render them again.

Revision ID: 0007_speed
Revises: 0007_sso
Create Date: 2026-12-01 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.core.db

revision: str = '0007_speed'
down_revision: str | Sequence[str] | None = '0007_sso'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('body_digest', sa.String(length=64), nullable=True))
    op.create_table(
        'page_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('changed_at', api.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_page_version')),
        sa.UniqueConstraint('name', name=op.f('uq_page_version_name')),
    )


def downgrade() -> None:
    op.drop_table('page_version')
    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.drop_column('body_digest')
        batch_op.drop_column('body_html')
