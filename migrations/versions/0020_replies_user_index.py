"""An index on the author of a reply

A learner's due dates (home page, course page) count the replies they wrote in
their courses; without an index on replies.user_id that read every reply (a
100 ms scan of 200,000 replies on SQLite for each learner's home page).

Revision ID: 0020
Revises: 0011
Created: 2026-12-04
"""

from alembic import op

revision = '0020'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('replies') as batch_op:
        batch_op.create_index('ix_replies_user_id', ['user_id'])


def downgrade():
    with op.batch_alter_table('replies') as batch_op:
        batch_op.drop_index('ix_replies_user_id')
