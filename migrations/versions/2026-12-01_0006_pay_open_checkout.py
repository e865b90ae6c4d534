"""pay: at most one open checkout per learner and programme

Revision ID: 0006_pay
Revises: 0005
Create Date: 2026-12-01 09:00:00

Before the index can exist, any learner with several open checkouts for one programme keeps only the
newest: the older ones are marked expired (their codes released, their due payments cancelled). They
were replaced by the newer one anyway; a payment that still arrives for one is refunded automatically.
(Two bank payments on their way for one programme cannot be closed here: the upgrade then stops on the
index, and an administrator settles them first.)
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_pay'
down_revision: str | Sequence[str] | None = '0006_cred'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('pending', 'processing')"


def upgrade() -> None:
    stale = sa.text(f"""
        SELECT o.id FROM "order" o
        WHERE o.status = 'pending' AND EXISTS (
            SELECT 1 FROM "order" n
            WHERE n.user_id = o.user_id AND n.programme_id = o.programme_id AND n.{OPEN}
              AND (n.status = 'processing' OR n.created_at > o.created_at
                   OR (n.created_at = o.created_at AND n.id > o.id)))""")
    conn = op.get_bind()
    ids = [row[0] for row in conn.execute(stale)]
    for order_id in ids:
        conn.execute(sa.text("""UPDATE "order" SET status = 'expired',
                                status_note = 'Closed: replaced by a newer checkout.' WHERE id = :id"""),
                     {"id": order_id})
        conn.execute(sa.text("UPDATE payment SET status = 'cancelled' WHERE order_id = :id AND status = 'due'"),
                     {"id": order_id})
        conn.execute(sa.text("""UPDATE discount_redemption SET status = 'released'
                                WHERE order_id = :id AND status = 'reserved'"""), {"id": order_id})
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.create_index('uq_order_open_checkout', ['user_id', 'programme_id'], unique=True,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_index('uq_order_open_checkout')
