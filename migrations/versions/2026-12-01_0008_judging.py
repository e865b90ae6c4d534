"""judging: judges per cycle, rounds with versioned criteria, assignments, scores, conflicts, frozen
results with amendments, interview slots, the deliberation record

Revision ID: 0008_judging
Revises: 0008_awards
Create Date: 2026-12-01 20:00:00

One assignment per (round, entry, judge) (uq_judging_assignment_round_id_entry_id_judge_id), one score
per assignment, one frozen result per round, amendments numbered per result, one conflict per (judge,
entry, kind), one interview per (round, entry), one deliberation per round.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0008_judging'
down_revision: str | Sequence[str] | None = '0008_awards'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('judging_judge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('appointed_by_id', sa.Integer(), nullable=True),
    sa.Column('appointed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointed_by_id'], ['user.id'], name=op.f('fk_judging_judge_appointed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['award_cycle.id'], name=op.f('fk_judging_judge_cycle_id_award_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_judging_judge_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_judge')),
    sa.UniqueConstraint('cycle_id', 'user_id', name=op.f('uq_judging_judge_cycle_id_user_id'))
    )
    with op.batch_alter_table('judging_judge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_judge_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_judge_user_id'), ['user_id'], unique=False)

    op.create_table('judging_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('quorum', sa.Integer(), nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('normalise', sa.Boolean(), nullable=False),
    sa.Column('advance', sa.Integer(), nullable=True),
    sa.Column('criteria_version', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_judging_round_closed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['award_cycle.id'], name=op.f('fk_judging_round_cycle_id_award_cycle'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_round')),
    sa.UniqueConstraint('cycle_id', 'kind', name=op.f('uq_judging_round_cycle_id_kind')),
    sa.UniqueConstraint('public_id', name=op.f('uq_judging_round_public_id'))
    )
    with op.batch_alter_table('judging_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_round_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('judging_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_judging_criteria_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['judging_round.id'], name=op.f('fk_judging_criteria_round_id_judging_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_criteria')),
    sa.UniqueConstraint('round_id', 'version', name=op.f('uq_judging_criteria_round_id_version'))
    )
    with op.batch_alter_table('judging_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_criteria_round_id'), ['round_id'], unique=False)

    op.create_table('judging_deliberation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('attendees', sa.JSON(), nullable=False),
    sa.Column('decisions', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_off_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['judging_round.id'], name=op.f('fk_judging_deliberation_round_id_judging_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signed_off_by_id'], ['user.id'], name=op.f('fk_judging_deliberation_signed_off_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_deliberation')),
    sa.UniqueConstraint('round_id', name=op.f('uq_judging_deliberation_round_id'))
    )
    op.create_table('judging_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('frozen_by_id', sa.Integer(), nullable=True),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['frozen_by_id'], ['user.id'], name=op.f('fk_judging_result_frozen_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['judging_round.id'], name=op.f('fk_judging_result_round_id_judging_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_result')),
    sa.UniqueConstraint('round_id', name=op.f('uq_judging_result_round_id'))
    )
    op.create_table('judging_amendment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('made_by_id', sa.Integer(), nullable=True),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['made_by_id'], ['user.id'], name=op.f('fk_judging_amendment_made_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['result_id'], ['judging_result.id'], name=op.f('fk_judging_amendment_result_id_judging_result'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_amendment')),
    sa.UniqueConstraint('result_id', 'number', name=op.f('uq_judging_amendment_result_id_number'))
    )
    with op.batch_alter_table('judging_amendment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_amendment_result_id'), ['result_id'], unique=False)

    op.create_table('judging_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['award_entry.id'], name=op.f('fk_judging_assignment_entry_id_award_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['judge_id'], ['judging_judge.id'], name=op.f('fk_judging_assignment_judge_id_judging_judge'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replaces_id'], ['judging_assignment.id'], name=op.f('fk_judging_assignment_replaces_id_judging_assignment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['judging_round.id'], name=op.f('fk_judging_assignment_round_id_judging_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_assignment')),
    sa.UniqueConstraint('round_id', 'entry_id', 'judge_id', name=op.f('uq_judging_assignment_round_id_entry_id_judge_id'))
    )
    with op.batch_alter_table('judging_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_assignment_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_judging_assignment_judge_status', ['judge_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_assignment_round_id'), ['round_id'], unique=False)

    op.create_table('judging_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('after_scoring', sa.Boolean(), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['award_cycle.id'], name=op.f('fk_judging_conflict_cycle_id_award_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['award_entry.id'], name=op.f('fk_judging_conflict_entry_id_award_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['judge_id'], ['judging_judge.id'], name=op.f('fk_judging_conflict_judge_id_judging_judge'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_conflict')),
    sa.UniqueConstraint('judge_id', 'entry_id', 'kind', name=op.f('uq_judging_conflict_judge_id_entry_id_kind'))
    )
    with op.batch_alter_table('judging_conflict', schema=None) as batch_op:
        batch_op.create_index('ix_judging_conflict_cycle_id_id', ['cycle_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_conflict_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_conflict_judge_id'), ['judge_id'], unique=False)

    op.create_table('judging_interview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('local_start', sa.Time(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('meeting_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['award_entry.id'], name=op.f('fk_judging_interview_entry_id_award_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['judging_round.id'], name=op.f('fk_judging_interview_round_id_judging_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_interview')),
    sa.UniqueConstraint('round_id', 'entry_id', name=op.f('uq_judging_interview_round_id_entry_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_judging_interview_uid'))
    )
    with op.batch_alter_table('judging_interview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_interview_round_id'), ['round_id'], unique=False)

    op.create_table('judging_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('criteria_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['judging_assignment.id'], name=op.f('fk_judging_score_assignment_id_judging_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['criteria_id'], ['judging_criteria.id'], name=op.f('fk_judging_score_criteria_id_judging_criteria'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_score')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_judging_score_assignment_id'))
    )
    with op.batch_alter_table('judging_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_score_criteria_id'), ['criteria_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('judging_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_score_criteria_id'))

    op.drop_table('judging_score')
    with op.batch_alter_table('judging_interview', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_interview_round_id'))

    op.drop_table('judging_interview')
    with op.batch_alter_table('judging_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_conflict_judge_id'))
        batch_op.drop_index(batch_op.f('ix_judging_conflict_entry_id'))
        batch_op.drop_index('ix_judging_conflict_cycle_id_id')

    op.drop_table('judging_conflict')
    with op.batch_alter_table('judging_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_assignment_round_id'))
        batch_op.drop_index('ix_judging_assignment_judge_status')
        batch_op.drop_index(batch_op.f('ix_judging_assignment_entry_id'))

    op.drop_table('judging_assignment')
    with op.batch_alter_table('judging_amendment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_amendment_result_id'))

    op.drop_table('judging_amendment')
    op.drop_table('judging_result')
    op.drop_table('judging_deliberation')
    with op.batch_alter_table('judging_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_criteria_round_id'))

    op.drop_table('judging_criteria')
    with op.batch_alter_table('judging_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_round_cycle_id'))

    op.drop_table('judging_round')
    with op.batch_alter_table('judging_judge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_judge_user_id'))
        batch_op.drop_index(batch_op.f('ix_judging_judge_cycle_id'))

    op.drop_table('judging_judge')
