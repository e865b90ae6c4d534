"""review: knowledge checks always have an attempt limit (3 where none was set) and an optional wait
after an attempt that did not pass.

Revision ID: 0007_review
Revises: 0007_assess
Create Date: 2026-12-01 16:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_review'
down_revision: str | Sequence[str] | None = '0007_assess'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE knowledge_check SET max_attempts = 3 WHERE max_attempts IS NULL")
    with op.batch_alter_table('knowledge_check', schema=None) as batch_op:
        batch_op.alter_column('max_attempts', existing_type=sa.Integer(), nullable=False)
        batch_op.add_column(sa.Column('retry_after_minutes', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('knowledge_check', schema=None) as batch_op:
        batch_op.drop_column('retry_after_minutes')
        batch_op.alter_column('max_attempts', existing_type=sa.Integer(), nullable=True)
