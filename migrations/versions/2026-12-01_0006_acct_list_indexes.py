"""Indexes for keyset pagination: each list that grows pages newest first by (created_at, id)
(certificates by (issued_at, id)), so a page costs the same at any depth.

Revision ID: 0006_acct
Revises: 0005
Create Date: 2026-12-01 12:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0006_acct'
down_revision: str | Sequence[str] | None = '0006_worker'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_user_created_at_id", "user", ["created_at", "id"]),
    ("ix_enrolment_created_at_id", "enrolment", ["created_at", "id"]),
    ("ix_order_created_at_id", "order", ["created_at", "id"]),
    ("ix_discount_code_created_at_id", "discount_code", ["created_at", "id"]),
    ("ix_certificate_issued_at_id", "certificate", ["issued_at", "id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
