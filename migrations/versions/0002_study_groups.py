"""study groups, answers and replies

Revision ID: 0002
Revises: 0001
Created: 2026-11-26 06:20:10.496183
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('study_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('join_policy', sa.String(length=16), nullable=False),
    sa.Column('post_first', sa.Boolean(), nullable=False),
    sa.Column('allow_anonymous', sa.Boolean(), nullable=False),
    sa.Column('invite_code', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_study_groups_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_groups')),
    sa.UniqueConstraint('invite_code', name=op.f('uq_study_groups_invite_code')),
    sa.UniqueConstraint('slug', name=op.f('uq_study_groups_slug'))
    )
    op.create_table('group_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_group_questions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_group_questions_episode_id_episodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['study_groups.id'], name=op.f('fk_group_questions_group_id_study_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_questions'))
    )
    with op.batch_alter_table('group_questions', schema=None) as batch_op:
        batch_op.create_index('ix_group_questions_group_episode', ['group_id', 'episode_id'], unique=False)

    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('request_message', sa.Text(), nullable=True),
    sa.Column('decision_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['study_groups.id'], name=op.f('fk_memberships_group_id_study_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('group_id', 'user_id', name=op.f('uq_memberships_group_id_user_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('ix_memberships_user_status', ['user_id', 'status'], unique=False)

    op.create_table('answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('study_question_id', sa.Integer(), nullable=True),
    sa.Column('group_question_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('endorsed_at', sa.DateTime(), nullable=True),
    sa.Column('endorsed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('edited_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('(study_question_id IS NULL) <> (group_question_id IS NULL)', name=op.f('ck_answers_one_question')),
    sa.ForeignKeyConstraint(['endorsed_by_id'], ['users.id'], name=op.f('fk_answers_endorsed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['study_groups.id'], name=op.f('fk_answers_group_id_study_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_question_id'], ['group_questions.id'], name=op.f('fk_answers_group_question_id_group_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['study_question_id'], ['study_questions.id'], name=op.f('fk_answers_study_question_id_study_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_answers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
    sa.UniqueConstraint('group_id', 'user_id', 'group_question_id', name=op.f('uq_answers_group_id_user_id_group_question_id')),
    sa.UniqueConstraint('group_id', 'user_id', 'study_question_id', name=op.f('uq_answers_group_id_user_id_study_question_id'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_group_group_question', ['group_id', 'group_question_id'], unique=False)
        batch_op.create_index('ix_answers_group_study_question', ['group_id', 'study_question_id'], unique=False)

    op.create_table('question_reveals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('study_question_id', sa.Integer(), nullable=True),
    sa.Column('group_question_id', sa.Integer(), nullable=True),
    sa.Column('revealed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['study_groups.id'], name=op.f('fk_question_reveals_group_id_study_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_question_id'], ['group_questions.id'], name=op.f('fk_question_reveals_group_question_id_group_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revealed_by_id'], ['users.id'], name=op.f('fk_question_reveals_revealed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['study_question_id'], ['study_questions.id'], name=op.f('fk_question_reveals_study_question_id_study_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_reveals')),
    sa.UniqueConstraint('group_id', 'group_question_id', name=op.f('uq_question_reveals_group_id_group_question_id')),
    sa.UniqueConstraint('group_id', 'study_question_id', name=op.f('uq_question_reveals_group_id_study_question_id'))
    )
    op.create_table('replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('edited_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], name=op.f('fk_replies_answer_id_answers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_replies_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_replies'))
    )
    with op.batch_alter_table('replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_replies_answer_id'), ['answer_id'], unique=False)

    op.create_table('revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=True),
    sa.Column('reply_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('written_at', sa.DateTime(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(answer_id IS NULL) <> (reply_id IS NULL)', name=op.f('ck_revisions_one_target')),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], name=op.f('fk_revisions_answer_id_answers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reply_id'], ['replies.id'], name=op.f('fk_revisions_reply_id_replies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revisions'))
    )
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revisions_answer_id'), ['answer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revisions_reply_id'), ['reply_id'], unique=False)




def downgrade():

    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revisions_reply_id'))
        batch_op.drop_index(batch_op.f('ix_revisions_answer_id'))

    op.drop_table('revisions')
    with op.batch_alter_table('replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_replies_answer_id'))

    op.drop_table('replies')
    op.drop_table('question_reveals')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_group_study_question')
        batch_op.drop_index('ix_answers_group_group_question')

    op.drop_table('answers')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_memberships_user_status')

    op.drop_table('memberships')
    with op.batch_alter_table('group_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_group_questions_group_episode')

    op.drop_table('group_questions')
    op.drop_table('study_groups')

