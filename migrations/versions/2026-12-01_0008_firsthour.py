"""Invoices: the buyer's invoice details on an order, numbered invoices and credit notes, and each
seller's number sequence.

Revision ID: 0008_firsthour
Revises: 0008_speed
Create Date: 2026-12-01 20:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0008_firsthour'
down_revision: str | Sequence[str] | None = '0008_speed'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('buyer_company', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('buyer_vat', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))

    op.create_table(
        'invoice_sequence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seller', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('series', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_sequence')),
        sa.UniqueConstraint('seller', 'series', name=op.f('uq_invoice_sequence_seller_series')),
    )
    op.create_table(
        'invoice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seller', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('series', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=True),
        sa.Column('refunded_total', sa.Integer(), nullable=True),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('vat_rate', sa.Integer(), nullable=False),
        sa.Column('seller_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('seller_address', sa.Text(), nullable=False),
        sa.Column('seller_vat', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_invoice_order_id_order'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_invoice_payment_id_payment'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
        sa.UniqueConstraint('seller', 'series', 'number', name=op.f('uq_invoice_seller_series_number')),
        sa.UniqueConstraint('payment_id', 'refunded_total', name=op.f('uq_invoice_payment_id_refunded_total')),
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_order_id'), ['order_id'], unique=False)
        batch_op.create_index('uq_invoice_order', ['order_id'], unique=True,
                              sqlite_where=sa.text("series = 'INV'"), postgresql_where=sa.text("series = 'INV'"))


def downgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('uq_invoice_order', sqlite_where=sa.text("series = 'INV'"),
                            postgresql_where=sa.text("series = 'INV'"))
        batch_op.drop_index(batch_op.f('ix_invoice_order_id'))
    op.drop_table('invoice')
    op.drop_table('invoice_sequence')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('buyer_vat')
        batch_op.drop_column('buyer_company')
        batch_op.drop_column('buyer_name')
