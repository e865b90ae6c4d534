"""Video lessons: a lesson's video file, WebVTT captions and transcript (lesson.video, JSON).

Revision ID: 0007_firsthour
Revises: 0007_speed
Create Date: 2026-12-01 17:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_firsthour'
down_revision: str | Sequence[str] | None = '0007_speed'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.add_column(sa.Column('video', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.drop_column('video')
