"""verifykeys: organisations' API keys (api_key), and single sign-on domain bindings that belong to an
organisation and wait for a platform admin's approval (sso_domain_binding: owner_id becomes a foreign key
to organisation, with status, who asked, who decided and when)

Revision ID: 0008_verifykeys
Revises: 0008_orgs
Create Date: 2026-12-01 20:10:00

An active key's name is unique in its organisation (uq_api_key_active_name, partial); a key's prefix and
digest are unique. An approved organisation binding holds its domain alone
(uq_sso_domain_binding_approved_domain, partial). Existing bindings were made by admins: approved.
A binding whose owner_id names no organisation (there were none before 0008_orgs) loses the owner.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0008_verifykeys'
down_revision: str | Sequence[str] | None = '0008_orgs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPROVED_ORG_BINDING = "owner_id IS NOT NULL AND status = 'approved'"
ACTIVE_KEY = "revoked_at IS NULL"


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('secret_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_api_key_created_by_id_user'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                            name=op.f('fk_api_key_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name=op.f('fk_api_key_revoked_by_id_user'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix')),
    sa.UniqueConstraint('secret_digest', name=op.f('uq_api_key_secret_digest'))
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index('ix_api_key_org_created', ['organisation_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('uq_api_key_active_name', ['organisation_id', 'name'], unique=True,
                              sqlite_where=sa.text(ACTIVE_KEY), postgresql_where=sa.text(ACTIVE_KEY))

    # Owners that name no organisation cannot be kept once the column is a foreign key.
    op.execute("UPDATE sso_domain_binding SET owner_id = NULL WHERE owner_id IS NOT NULL AND owner_id NOT IN "
               "(SELECT id FROM organisation)")
    with op.batch_alter_table('sso_domain_binding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='approved'))
        batch_op.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decision_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_sso_domain_binding_status'), ['status'], unique=False)
        batch_op.create_index('uq_sso_domain_binding_approved_domain', ['domain'], unique=True,
                              sqlite_where=sa.text(APPROVED_ORG_BINDING),
                              postgresql_where=sa.text(APPROVED_ORG_BINDING))
        batch_op.create_foreign_key(batch_op.f('fk_sso_domain_binding_owner_id_organisation'), 'organisation',
                                    ['owner_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_sso_domain_binding_requested_by_id_user'), 'user',
                                    ['requested_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_sso_domain_binding_decided_by_id_user'), 'user',
                                    ['decided_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('sso_domain_binding', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('sso_domain_binding', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sso_domain_binding_decided_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_sso_domain_binding_requested_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_sso_domain_binding_owner_id_organisation'), type_='foreignkey')
        batch_op.drop_index('uq_sso_domain_binding_approved_domain', sqlite_where=sa.text(APPROVED_ORG_BINDING),
                            postgresql_where=sa.text(APPROVED_ORG_BINDING))
        batch_op.drop_index(batch_op.f('ix_sso_domain_binding_status'))
        batch_op.drop_column('decision_note')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('requested_by_id')
        batch_op.drop_column('status')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index('uq_api_key_active_name', sqlite_where=sa.text(ACTIVE_KEY),
                            postgresql_where=sa.text(ACTIVE_KEY))
        batch_op.drop_index('ix_api_key_org_created')
    op.drop_table('api_key')
