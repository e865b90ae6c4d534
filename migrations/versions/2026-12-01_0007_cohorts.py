"""cohorts: cohorts, sessions, seats, waitlist, attendance, calendar feeds; user time zone; programme cohort format

Revision ID: 0007_cohorts
Revises: 0007_assess
Create Date: 2026-12-01 16:31:37

Live cohorts (api/cohorts): one live seat per learner and programme (uq_seat_live), one live waitlist
place per learner and cohort (uq_waitlist_live). Programmes gain their cohort format from content, users
their own time zone (empty: the site default).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0007_cohorts'
down_revision: str | Sequence[str] | None = '0007_assess'  # re-chained after merging assess (was 0006_acct)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_feed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_calendar_feed_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feed')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_calendar_feed_token_digest'))
    )
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_feed_user_id'), ['user_id'], unique=False)

    op.create_table('cohort',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('enrolment_opens_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enrolment_closes_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('meeting_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('recording_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_cohort_programme_id_programme'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort')),
    sa.UniqueConstraint('public_id', name=op.f('uq_cohort_public_id'))
    )
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.create_index('ix_cohort_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_status'), ['status'], unique=False)

    op.create_table('cohort_facilitator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_cohort_facilitator_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_cohort_facilitator_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_facilitator')),
    sa.UniqueConstraint('cohort_id', 'user_id', name=op.f('uq_cohort_facilitator_cohort_id_user_id'))
    )
    with op.batch_alter_table('cohort_facilitator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_facilitator_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_facilitator_user_id'), ['user_id'], unique=False)

    op.create_table('cohort_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('local_start', sa.Time(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('makeup_for_id', sa.Integer(), nullable=True),
    sa.Column('meeting_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('recording_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('recording_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('recording_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('recording_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_cohort_session_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['makeup_for_id'], ['cohort_session.id'], name=op.f('fk_cohort_session_makeup_for_id_cohort_session'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_session')),
    sa.UniqueConstraint('uid', name=op.f('uq_cohort_session_uid'))
    )
    with op.batch_alter_table('cohort_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_session_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_session_starts_at'), ['starts_at'], unique=False)

    op.create_table('waitlist_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_waitlist_entry_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_waitlist_entry_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entry'))
    )
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entry_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index('ix_waitlist_entry_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entry_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_waitlist_live', ['cohort_id', 'user_id'], unique=True, sqlite_where=sa.text("status IN ('waiting', 'offered')"), postgresql_where=sa.text("status IN ('waiting', 'offered')"))

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mark', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['marked_by_id'], ['user.id'], name=op.f('fk_attendance_marked_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['cohort_session.id'], name=op.f('fk_attendance_session_id_cohort_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_attendance_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_attendance_session_id_user_id'))
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_user_id'), ['user_id'], unique=False)

    op.create_table('attendance_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('from_mark', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('to_mark', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_attendance_audit_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['cohort_session.id'], name=op.f('fk_attendance_audit_session_id_cohort_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_attendance_audit_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_audit'))
    )
    with op.batch_alter_table('attendance_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_audit_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_audit_user_id'), ['user_id'], unique=False)

    op.create_table('join_click',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['cohort_session.id'], name=op.f('fk_join_click_session_id_cohort_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_join_click_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_click'))
    )
    with op.batch_alter_table('join_click', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_join_click_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_click_user_id'), ['user_id'], unique=False)

    op.create_table('recording_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('viewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['cohort_session.id'], name=op.f('fk_recording_view_session_id_cohort_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_recording_view_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_view')),
    sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_recording_view_session_id_user_id'))
    )
    with op.batch_alter_table('recording_view', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_view_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_view_user_id'), ['user_id'], unique=False)

    op.create_table('seat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('hold_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_seat_cohort_id_cohort'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_seat_order_id_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_seat_programme_id_programme'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_seat_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat'))
    )
    with op.batch_alter_table('seat', schema=None) as batch_op:
        batch_op.create_index('ix_seat_cohort_status', ['cohort_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_seat_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seat_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_seat_live', ['user_id', 'programme_id'], unique=True, sqlite_where=sa.text("status IN ('held', 'paid')"), postgresql_where=sa.text("status IN ('held', 'paid')"))

    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cohort_format', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('time_zone')

    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_column('cohort_format')

    with op.batch_alter_table('seat', schema=None) as batch_op:
        batch_op.drop_index('uq_seat_live', sqlite_where=sa.text("status IN ('held', 'paid')"), postgresql_where=sa.text("status IN ('held', 'paid')"))
        batch_op.drop_index(batch_op.f('ix_seat_user_id'))
        batch_op.drop_index(batch_op.f('ix_seat_order_id'))
        batch_op.drop_index('ix_seat_cohort_status')

    op.drop_table('seat')
    with op.batch_alter_table('recording_view', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_view_user_id'))
        batch_op.drop_index(batch_op.f('ix_recording_view_session_id'))

    op.drop_table('recording_view')
    with op.batch_alter_table('join_click', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_join_click_user_id'))
        batch_op.drop_index(batch_op.f('ix_join_click_session_id'))

    op.drop_table('join_click')
    with op.batch_alter_table('attendance_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_audit_user_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_audit_session_id'))

    op.drop_table('attendance_audit')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_user_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_session_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_index('uq_waitlist_live', sqlite_where=sa.text("status IN ('waiting', 'offered')"), postgresql_where=sa.text("status IN ('waiting', 'offered')"))
        batch_op.drop_index(batch_op.f('ix_waitlist_entry_user_id'))
        batch_op.drop_index('ix_waitlist_entry_created_at_id')
        batch_op.drop_index(batch_op.f('ix_waitlist_entry_cohort_id'))

    op.drop_table('waitlist_entry')
    with op.batch_alter_table('cohort_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_session_starts_at'))
        batch_op.drop_index(batch_op.f('ix_cohort_session_cohort_id'))

    op.drop_table('cohort_session')
    with op.batch_alter_table('cohort_facilitator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_facilitator_user_id'))
        batch_op.drop_index(batch_op.f('ix_cohort_facilitator_cohort_id'))

    op.drop_table('cohort_facilitator')
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_status'))
        batch_op.drop_index(batch_op.f('ix_cohort_programme_id'))
        batch_op.drop_index('ix_cohort_created_at_id')

    op.drop_table('cohort')
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_feed_user_id'))

    op.drop_table('calendar_feed')
