"""review: knowledge checks always have an attempt limit (3 where none was set) and an optional wait
after an attempt that did not pass; the second line of judgement's tables: assessment_appeal,
assessment_extension (one pending per submission), calibration_exemplar, calibration_mark.

Revision ID: 0007_review
Revises: 0007_assess
Create Date: 2026-12-01 16:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
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

    op.create_table('calibration_exemplar',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brief_id', sa.Integer(), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('work', sa.Text(), nullable=False),
    sa.Column('agreed_scores', sa.JSON(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['brief_id'], ['assessment_brief.id'], name=op.f('fk_calibration_exemplar_brief_id_assessment_brief'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_calibration_exemplar_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_version.id'], name=op.f('fk_calibration_exemplar_rubric_version_id_rubric_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_exemplar'))
    )
    with op.batch_alter_table('calibration_exemplar', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_exemplar_brief_id'), ['brief_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calibration_exemplar_rubric_version_id'), ['rubric_version_id'], unique=False)

    op.create_table('assessment_extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('deadline_before', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_assessment_extension_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submission_id'], ['assessment_submission.id'], name=op.f('fk_assessment_extension_submission_id_assessment_submission'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_assessment_extension_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_extension'))
    )
    with op.batch_alter_table('assessment_extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_extension_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_extension_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_extension_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_assessment_extension_pending', ['submission_id'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    op.create_table('calibration_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exemplar_id', sa.Integer(), nullable=False),
    sa.Column('coach_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coach_id'], ['user.id'], name=op.f('fk_calibration_mark_coach_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exemplar_id'], ['calibration_exemplar.id'], name=op.f('fk_calibration_mark_exemplar_id_calibration_exemplar'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_mark')),
    sa.UniqueConstraint('exemplar_id', 'coach_id', name=op.f('uq_calibration_mark_exemplar_id_coach_id'))
    )
    with op.batch_alter_table('calibration_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_mark_coach_id'), ['coach_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calibration_mark_exemplar_id'), ['exemplar_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calibration_mark_submitted_at'), ['submitted_at'], unique=False)

    op.create_table('assessment_appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('marker_id', sa.Integer(), nullable=True),
    sa.Column('mark_id', sa.Integer(), nullable=True),
    sa.Column('outcome_before', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('outcome_after', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('decision', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['mark_id'], ['assessment_mark.id'], name=op.f('fk_assessment_appeal_mark_id_assessment_mark'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['marker_id'], ['user.id'], name=op.f('fk_assessment_appeal_marker_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submission_id'], ['assessment_submission.id'], name=op.f('fk_assessment_appeal_submission_id_assessment_submission'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_assessment_appeal_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_appeal')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_assessment_appeal_submission_id'))
    )
    with op.batch_alter_table('assessment_appeal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_appeal_marker_id'), ['marker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_appeal_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_appeal_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('assessment_submission', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_submission_created_at_id', ['created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assessment_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_submission_created_at_id')

    with op.batch_alter_table('assessment_appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_appeal_user_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_appeal_status'))
        batch_op.drop_index(batch_op.f('ix_assessment_appeal_marker_id'))

    op.drop_table('assessment_appeal')
    with op.batch_alter_table('calibration_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_mark_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_calibration_mark_exemplar_id'))
        batch_op.drop_index(batch_op.f('ix_calibration_mark_coach_id'))

    op.drop_table('calibration_mark')
    with op.batch_alter_table('assessment_extension', schema=None) as batch_op:
        batch_op.drop_index('uq_assessment_extension_pending', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_assessment_extension_user_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_extension_submission_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_extension_status'))

    op.drop_table('assessment_extension')
    with op.batch_alter_table('calibration_exemplar', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_exemplar_rubric_version_id'))
        batch_op.drop_index(batch_op.f('ix_calibration_exemplar_brief_id'))

    op.drop_table('calibration_exemplar')

    with op.batch_alter_table('knowledge_check', schema=None) as batch_op:
        batch_op.drop_column('retry_after_minutes')
        batch_op.alter_column('max_attempts', existing_type=sa.Integer(), nullable=True)
