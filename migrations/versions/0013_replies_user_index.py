"""Indexes for a learner's due dates and the course progress table

- replies.user_id: a learner's due dates (home page, course page) count the
  replies they wrote in their courses; without it that read every reply (a
  100 ms scan of 200,000 replies on SQLite for each learner's home page).
- replies (answer_id, user_id, deleted_at) in place of replies (answer_id): the
  progress table counts who replied under the course's answers from the index
  alone; an answer's replies are still found by its first column.
- answers' group summary index gains created_at: the progress table reads each
  learner's first answer to each question from the index alone.

Revision ID: 0013
Revises: 0012_lti
Created: 2026-12-04
"""

from alembic import op

revision = '0013'
down_revision = '0012_lti'
branch_labels = None
depends_on = None

SUMMARY = ['group_id', 'study_question_id', 'group_question_id', 'user_id', 'deleted_at']


def upgrade():
    with op.batch_alter_table('replies') as batch_op:
        batch_op.create_index('ix_replies_user_id', ['user_id'])
        batch_op.drop_index('ix_replies_answer_id')
        batch_op.create_index('ix_replies_answer_author', ['answer_id', 'user_id', 'deleted_at'])
    with op.batch_alter_table('answers') as batch_op:
        batch_op.drop_index('ix_answers_group_summary')
        batch_op.create_index('ix_answers_group_summary', [*SUMMARY, 'created_at'])


def downgrade():
    with op.batch_alter_table('answers') as batch_op:
        batch_op.drop_index('ix_answers_group_summary')
        batch_op.create_index('ix_answers_group_summary', SUMMARY)
    with op.batch_alter_table('replies') as batch_op:
        batch_op.drop_index('ix_replies_answer_author')
        batch_op.create_index('ix_replies_answer_id', ['answer_id'])
        batch_op.drop_index('ix_replies_user_id')
