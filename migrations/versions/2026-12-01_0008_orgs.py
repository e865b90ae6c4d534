"""organisations: organisations, memberships (with consent), invitations, seat pools, credits, assignments; order quantity and organisation

Revision ID: 0008_orgs
Revises: 0008_firsthour
Create Date: 2026-12-01 19:55:34

Employers (api/organisations). One open invitation per organisation and address
(uq_organisation_invitation_open); one pool per organisation and programme, or organisation and cohort;
a pool's assigned seats stay within 0..quantity (CHECK) and its take-backs within the cap (CHECK); one
live seat per member and pool (uq_organisation_seat_assignment_live); an order credits seats once
(uq_organisation_seat_credit_order_id). Orders gain a quantity (1 for existing ones) and the
organisation they were bought for.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0008_orgs'
down_revision: str | Sequence[str] | None = '0008_firsthour'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('legal_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('vat_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_organisation_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('public_id', name=op.f('uq_organisation_public_id'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_created_at_id', ['created_at', 'id'], unique=False)

    op.create_table('organisation_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('token_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('inviter_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['user.id'], name=op.f('fk_organisation_invitation_accepted_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['inviter_id'], ['user.id'], name=op.f('fk_organisation_invitation_inviter_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_organisation_invitation_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_invitation')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_organisation_invitation_token_digest'))
    )
    with op.batch_alter_table('organisation_invitation', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_invitation_org_created', ['organisation_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('uq_organisation_invitation_open', ['organisation_id', 'email'], unique=True, sqlite_where=sa.text('accepted_at IS NULL AND revoked_at IS NULL'), postgresql_where=sa.text('accepted_at IS NULL AND revoked_at IS NULL'))

    op.create_table('organisation_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('share_progress', sa.Boolean(), nullable=False),
    sa.Column('share_assessments', sa.Boolean(), nullable=False),
    sa.Column('consent_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_organisation_membership_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_organisation_membership_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_membership')),
    sa.UniqueConstraint('organisation_id', 'user_id', name=op.f('uq_organisation_membership_organisation_id_user_id'))
    )
    with op.batch_alter_table('organisation_membership', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_membership_org_created', ['organisation_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_membership_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_membership_user_id'), ['user_id'], unique=False)

    op.create_table('organisation_seat_pool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('assigned', sa.Integer(), nullable=False),
    sa.Column('take_backs', sa.Integer(), nullable=False),
    sa.Column('max_take_backs_per_seat', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('assigned >= 0 AND assigned <= quantity', name=op.f('ck_organisation_seat_pool_assigned_within_quantity')),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_organisation_seat_pool_quantity_not_negative')),
    sa.CheckConstraint('take_backs >= 0 AND take_backs <= quantity * max_take_backs_per_seat', name=op.f('ck_organisation_seat_pool_take_backs_capped')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_organisation_seat_pool_cohort_id_cohort'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_organisation_seat_pool_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_organisation_seat_pool_programme_id_programme'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_seat_pool')),
    sa.UniqueConstraint('public_id', name=op.f('uq_organisation_seat_pool_public_id'))
    )
    with op.batch_alter_table('organisation_seat_pool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_seat_pool_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('uq_organisation_seat_pool_cohort', ['organisation_id', 'cohort_id'], unique=True, sqlite_where=sa.text('cohort_id IS NOT NULL'), postgresql_where=sa.text('cohort_id IS NOT NULL'))
        batch_op.create_index('uq_organisation_seat_pool_programme', ['organisation_id', 'programme_id'], unique=True, sqlite_where=sa.text('cohort_id IS NULL'), postgresql_where=sa.text('cohort_id IS NULL'))

    op.create_table('organisation_seat_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['user.id'], name=op.f('fk_organisation_seat_assignment_assigned_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pool_id'], ['organisation_seat_pool.id'], name=op.f('fk_organisation_seat_assignment_pool_id_organisation_seat_pool'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['returned_by_id'], ['user.id'], name=op.f('fk_organisation_seat_assignment_returned_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_organisation_seat_assignment_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_seat_assignment'))
    )
    with op.batch_alter_table('organisation_seat_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_seat_assignment_pool_id'), ['pool_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_seat_assignment_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_organisation_seat_assignment_live', ['pool_id', 'user_id'], unique=True, sqlite_where=sa.text("status = 'assigned'"), postgresql_where=sa.text("status = 'assigned'"))

    op.create_table('organisation_seat_credit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user.id'], name=op.f('fk_organisation_seat_credit_granted_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_organisation_seat_credit_order_id_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pool_id'], ['organisation_seat_pool.id'], name=op.f('fk_organisation_seat_credit_pool_id_organisation_seat_pool'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_seat_credit')),
    sa.UniqueConstraint('order_id', name=op.f('uq_organisation_seat_credit_order_id'))
    )
    with op.batch_alter_table('organisation_seat_credit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_seat_credit_pool_id'), ['pool_id'], unique=False)

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quantity', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_order_organisation_id_organisation'), 'organisation', ['organisation_id'], ['id'], ondelete='RESTRICT')



def downgrade() -> None:
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_organisation_id_organisation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_organisation_id'))
        batch_op.drop_column('organisation_id')
        batch_op.drop_column('quantity')

    with op.batch_alter_table('organisation_seat_credit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_seat_credit_pool_id'))

    op.drop_table('organisation_seat_credit')
    with op.batch_alter_table('organisation_seat_assignment', schema=None) as batch_op:
        batch_op.drop_index('uq_organisation_seat_assignment_live', sqlite_where=sa.text("status = 'assigned'"), postgresql_where=sa.text("status = 'assigned'"))
        batch_op.drop_index(batch_op.f('ix_organisation_seat_assignment_user_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_seat_assignment_pool_id'))

    op.drop_table('organisation_seat_assignment')
    with op.batch_alter_table('organisation_seat_pool', schema=None) as batch_op:
        batch_op.drop_index('uq_organisation_seat_pool_programme', sqlite_where=sa.text('cohort_id IS NULL'), postgresql_where=sa.text('cohort_id IS NULL'))
        batch_op.drop_index('uq_organisation_seat_pool_cohort', sqlite_where=sa.text('cohort_id IS NOT NULL'), postgresql_where=sa.text('cohort_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_organisation_seat_pool_organisation_id'))

    op.drop_table('organisation_seat_pool')
    with op.batch_alter_table('organisation_membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_membership_user_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_membership_organisation_id'))
        batch_op.drop_index('ix_organisation_membership_org_created')

    op.drop_table('organisation_membership')
    with op.batch_alter_table('organisation_invitation', schema=None) as batch_op:
        batch_op.drop_index('uq_organisation_invitation_open', sqlite_where=sa.text('accepted_at IS NULL AND revoked_at IS NULL'), postgresql_where=sa.text('accepted_at IS NULL AND revoked_at IS NULL'))
        batch_op.drop_index('ix_organisation_invitation_org_created')

    op.drop_table('organisation_invitation')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index('ix_organisation_created_at_id')

    op.drop_table('organisation')
