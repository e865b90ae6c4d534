"""Work once: the verify page and the verification API's answer for anonymous viewers, rendered when a
certificate is issued or its status changes, stored beside it (api/certificates/answers.py).

Revision ID: 0008_speed
Revises: 0007_firsthour
Create Date: 2026-12-01 20:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.core.db

revision: str = '0008_speed'
down_revision: str | Sequence[str] | None = '0007_firsthour'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'verified_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('answer_key', sa.LargeBinary(), nullable=False),
        sa.Column('before', sa.LargeBinary(), nullable=False),
        sa.Column('after', sa.LargeBinary(), nullable=False),
        sa.Column('fmt', sa.String(length=40), nullable=False),
        sa.Column('rendered_at', api.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'],
                                name=op.f('fk_verified_answer_certificate_id_certificate'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_verified_answer')),
        sa.UniqueConstraint('certificate_id', 'kind', name=op.f('uq_verified_answer_certificate_id_kind')),
    )


def downgrade() -> None:
    op.drop_table('verified_answer')
