"""awards: cycles, milestones, nominees, nominations, entries, outcomes; hall of fame winners from cycles; award credentials

Revision ID: 0008_awards
Revises: 0008_verifykeys
Create Date: 2026-12-01 19:55:41

The award cycle (api/awards): one nominee per person and cycle (uq_nominee_cycle_id_email_normalised),
one nomination per nominator and nominee, one entry per nominee, one outcome per entry. Hall of fame
winners gain where they came from (content, admin, cycle; content rows keep 'content'), a slug, a photo
and a withdrawn listing. Certificates gain an achievement kind: an award credential has no programme.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0008_awards'
down_revision: str | Sequence[str] | None = '0008_verifykeys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('award_cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('self_nomination_allowed', sa.Boolean(), nullable=False),
    sa.Column('eligibility', sa.JSON(), nullable=False),
    sa.Column('embargo_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_award_cycle_award_id_award'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_award_cycle_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_cycle')),
    sa.UniqueConstraint('award_id', 'year', name=op.f('uq_award_cycle_award_id_year')),
    sa.UniqueConstraint('slug', name=op.f('uq_award_cycle_slug'))
    )
    with op.batch_alter_table('award_cycle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_cycle_award_id'), ['award_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_award_cycle_state'), ['state'], unique=False)

    op.create_table('award_cycle_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_award_cycle_audit_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['award_cycle.id'], name=op.f('fk_award_cycle_audit_cycle_id_award_cycle'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_cycle_audit'))
    )
    with op.batch_alter_table('award_cycle_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_cycle_audit_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('award_milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('local_time', sa.Time(), nullable=False),
    sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['award_cycle.id'], name=op.f('fk_award_milestone_cycle_id_award_cycle'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_milestone')),
    sa.UniqueConstraint('cycle_id', 'kind', name=op.f('uq_award_milestone_cycle_id_kind'))
    )
    with op.batch_alter_table('award_milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_milestone_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_award_milestone_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('nominee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('email_normalised', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('nomination_count', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('consent_judging_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consent_public_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('photo_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('photo_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['award_cycle.id'], name=op.f('fk_nominee_cycle_id_award_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_nominee_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nominee')),
    sa.UniqueConstraint('cycle_id', 'email_normalised', name=op.f('uq_nominee_cycle_id_email_normalised')),
    sa.UniqueConstraint('public_id', name=op.f('uq_nominee_public_id'))
    )
    with op.batch_alter_table('nominee', schema=None) as batch_op:
        batch_op.create_index('ix_nominee_cycle_id_id', ['cycle_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nominee_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_nominee_user_id'), ['user_id'], unique=False)

    op.create_table('award_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('nominee_id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('personal', sa.Text(), nullable=False),
    sa.Column('professional', sa.Text(), nullable=False),
    sa.Column('business', sa.Text(), nullable=False),
    sa.Column('referees', sa.JSON(), nullable=False),
    sa.Column('eligibility', sa.JSON(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['award_cycle.id'], name=op.f('fk_award_entry_cycle_id_award_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['nominee_id'], ['nominee.id'], name=op.f('fk_award_entry_nominee_id_nominee'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_entry')),
    sa.UniqueConstraint('nominee_id', name=op.f('uq_award_entry_nominee_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_award_entry_public_id'))
    )
    with op.batch_alter_table('award_entry', schema=None) as batch_op:
        batch_op.create_index('ix_award_entry_cycle_state_id', ['cycle_id', 'state', 'id'], unique=False)

    op.create_table('award_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('nominee_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['award_cycle.id'], name=op.f('fk_award_reminder_cycle_id_award_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['nominee_id'], ['nominee.id'], name=op.f('fk_award_reminder_nominee_id_nominee'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_reminder')),
    sa.UniqueConstraint('cycle_id', 'kind', 'nominee_id', name=op.f('uq_award_reminder_cycle_id_kind_nominee_id'))
    )
    with op.batch_alter_table('award_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_reminder_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('nomination',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('nominee_id', sa.Integer(), nullable=False),
    sa.Column('nominator_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('endorsers', sa.JSON(), nullable=False),
    sa.Column('reveal_to_nominee', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['award_cycle.id'], name=op.f('fk_nomination_cycle_id_award_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['nominator_id'], ['user.id'], name=op.f('fk_nomination_nominator_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['nominee_id'], ['nominee.id'], name=op.f('fk_nomination_nominee_id_nominee'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nomination')),
    sa.UniqueConstraint('nominee_id', 'nominator_id', name=op.f('uq_nomination_nominee_id_nominator_id'))
    )
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nomination_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index('ix_nomination_nominator_id_id', ['nominator_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nomination_nominee_id'), ['nominee_id'], unique=False)

    op.create_table('award_entry_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['award_entry.id'], name=op.f('fk_award_entry_file_entry_id_award_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_entry_file')),
    sa.UniqueConstraint('public_id', name=op.f('uq_award_entry_file_public_id'))
    )
    with op.batch_alter_table('award_entry_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_entry_file_entry_id'), ['entry_id'], unique=False)

    op.create_table('award_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('citation', sa.Text(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_award_outcome_certificate_id_certificate'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['award_cycle.id'], name=op.f('fk_award_outcome_cycle_id_award_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['award_entry.id'], name=op.f('fk_award_outcome_entry_id_award_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_award_outcome_recorded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_outcome')),
    sa.UniqueConstraint('certificate_id', name=op.f('uq_award_outcome_certificate_id')),
    sa.UniqueConstraint('cycle_id', 'entry_id', name=op.f('uq_award_outcome_cycle_id_entry_id')),
    sa.UniqueConstraint('slug', name=op.f('uq_award_outcome_slug'))
    )
    with op.batch_alter_table('award_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_outcome_cycle_id'), ['cycle_id'], unique=False)

    with op.batch_alter_table('award_winner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), server_default='content', nullable=False))
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), server_default='winner', nullable=False))
        batch_op.add_column(sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.add_column(sa.Column('cycle_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outcome_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('certificate_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('photo_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('photo_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('listing_withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_award_winner_user_id'), ['user_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_award_winner_outcome_id'), ['outcome_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_award_winner_slug'), ['slug'])
        batch_op.create_foreign_key(batch_op.f('fk_award_winner_user_id_user'), 'user', ['user_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_award_winner_cycle_id_award_cycle'), 'award_cycle', ['cycle_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_award_winner_outcome_id_award_outcome'), 'award_outcome', ['outcome_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_award_winner_certificate_id_certificate'), 'certificate', ['certificate_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), server_default='accreditation', nullable=False))
        batch_op.add_column(sa.Column('achievement_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.alter_column('programme_id',
               existing_type=sa.INTEGER(),
               nullable=True)



def downgrade() -> None:
    # Award credentials have no programme: they go before programme_id is required again.
    op.execute("DELETE FROM certificate WHERE kind = 'award'")
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('programme_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('achievement_name')
        batch_op.drop_column('kind')

    with op.batch_alter_table('award_winner', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_award_winner_certificate_id_certificate'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_award_winner_outcome_id_award_outcome'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_award_winner_cycle_id_award_cycle'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_award_winner_user_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_award_winner_slug'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_award_winner_outcome_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_award_winner_user_id'))
        batch_op.drop_column('listing_withdrawn_at')
        batch_op.drop_column('photo_type')
        batch_op.drop_column('photo_key')
        batch_op.drop_column('certificate_id')
        batch_op.drop_column('user_id')
        batch_op.drop_column('outcome_id')
        batch_op.drop_column('cycle_id')
        batch_op.drop_column('slug')
        batch_op.drop_column('kind')
        batch_op.drop_column('source')

    with op.batch_alter_table('award_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_outcome_cycle_id'))

    op.drop_table('award_outcome')
    with op.batch_alter_table('award_entry_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_entry_file_entry_id'))

    op.drop_table('award_entry_file')
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nomination_nominee_id'))
        batch_op.drop_index('ix_nomination_nominator_id_id')
        batch_op.drop_index(batch_op.f('ix_nomination_cycle_id'))

    op.drop_table('nomination')
    with op.batch_alter_table('award_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_reminder_cycle_id'))

    op.drop_table('award_reminder')
    with op.batch_alter_table('award_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_award_entry_cycle_state_id')

    op.drop_table('award_entry')
    with op.batch_alter_table('nominee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nominee_user_id'))
        batch_op.drop_index(batch_op.f('ix_nominee_status'))
        batch_op.drop_index('ix_nominee_cycle_id_id')

    op.drop_table('nominee')
    with op.batch_alter_table('award_milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_milestone_cycle_id'))
        batch_op.drop_index(batch_op.f('ix_award_milestone_at'))

    op.drop_table('award_milestone')
    with op.batch_alter_table('award_cycle_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_cycle_audit_cycle_id'))

    op.drop_table('award_cycle_audit')
    with op.batch_alter_table('award_cycle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_cycle_state'))
        batch_op.drop_index(batch_op.f('ix_award_cycle_award_id'))

    op.drop_table('award_cycle')
