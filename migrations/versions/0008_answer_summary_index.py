"""A covering index for a group's answer counts per question

The group page and the episode page count a group's answers per question and
note which the reader wrote; with the question, author and deletion columns in
the index the count reads the index alone instead of every answer row.

Revision ID: 0008
Revises: 0007
Created: 2026-11-26
"""

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answers') as batch_op:
        batch_op.drop_index('ix_answers_group_study_question')
        batch_op.create_index(
            'ix_answers_group_summary',
            ['group_id', 'study_question_id', 'group_question_id', 'user_id', 'deleted_at'],
        )


def downgrade():
    with op.batch_alter_table('answers') as batch_op:
        batch_op.drop_index('ix_answers_group_summary')
        batch_op.create_index(
            'ix_answers_group_study_question', ['group_id', 'study_question_id']
        )
