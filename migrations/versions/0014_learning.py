"""Learning that counts: assignment checkpoints, reflections, certificates, spaced follow-ups

Checkpoints on an assignment (answers by one date, N replies to peers by a later
one) with per-learner extensions and their reminders; a private reflection per
learner and episode; certificates of participation (revocable); the spaced
follow-up mails sent and the people who turned them off.

Revision ID: 0014
Revises: 0013
Created: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _fk(table, column, target, ondelete):
    return sa.ForeignKeyConstraint(
        [column], [f'{target}.id'],
        name=op.f(f'fk_{table}_{column}_{target}'), ondelete=ondelete,
    )


def upgrade():
    op.create_table(
        'assignment_checkpoints',
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('answers_due_at', sa.DateTime(), nullable=True),
        sa.Column('replies_required', sa.Integer(), nullable=False),
        sa.Column('replies_due_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        _fk('assignment_checkpoints', 'assignment_id', 'assignments', 'CASCADE'),
        sa.PrimaryKeyConstraint('assignment_id', name=op.f('pk_assignment_checkpoints')),
    )
    for name in ('checkpoint_extensions', 'checkpoint_reminders_sent'):
        extra = []
        if name == 'checkpoint_extensions':
            extra = [
                sa.Column('due_at', sa.DateTime(), nullable=False),
                sa.Column('granted_by_id', sa.Integer(), nullable=True),
                sa.Column('created_at', sa.DateTime(), nullable=False),
                _fk(name, 'granted_by_id', 'users', 'SET NULL'),
            ]
        else:
            extra = [sa.Column('sent_at', sa.DateTime(), nullable=False)]
        op.create_table(
            name,
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('assignment_id', sa.Integer(), nullable=False),
            sa.Column('user_id', sa.Integer(), nullable=False),
            sa.Column('kind', sa.String(length=16), nullable=False),
            *extra,
            _fk(name, 'assignment_id', 'assignments', 'CASCADE'),
            _fk(name, 'user_id', 'users', 'CASCADE'),
            sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
            sa.UniqueConstraint(
                'assignment_id', 'user_id', 'kind',
                name=op.f(f'uq_{name}_assignment_id_user_id_kind'),
            ),
        )
        op.create_index(op.f(f'ix_{name}_user_id'), name, ['user_id'])
    op.create_table(
        'reflections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('episode_id', sa.Integer(), nullable=False),
        sa.Column('learned', sa.Text(), nullable=False),
        sa.Column('learned_html', sa.Text(), nullable=False),
        sa.Column('will_try', sa.Text(), nullable=False),
        sa.Column('will_try_html', sa.Text(), nullable=False),
        sa.Column('for_whom', sa.Text(), nullable=False),
        sa.Column('for_whom_html', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        _fk('reflections', 'user_id', 'users', 'CASCADE'),
        _fk('reflections', 'episode_id', 'episodes', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reflections')),
        sa.UniqueConstraint(
            'user_id', 'episode_id', name=op.f('uq_reflections_user_id_episode_id')
        ),
    )
    op.create_index(op.f('ix_reflections_episode_id'), 'reflections', ['episode_id'])
    op.create_table(
        'certificates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('course_id', sa.Integer(), nullable=True),
        sa.Column('holder_name', sa.String(length=80), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('episodes', sa.JSON(), nullable=False),
        sa.Column('audio_seconds', sa.Integer(), nullable=False),
        sa.Column('first_activity_on', sa.DateTime(), nullable=True),
        sa.Column('last_activity_on', sa.DateTime(), nullable=True),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        _fk('certificates', 'user_id', 'users', 'CASCADE'),
        _fk('certificates', 'course_id', 'courses', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
        sa.UniqueConstraint('public_id', name=op.f('uq_certificates_public_id')),
    )
    op.create_index(op.f('ix_certificates_user_id'), 'certificates', ['user_id'])
    op.create_table(
        'follow_ups_sent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('episode_id', sa.Integer(), nullable=False),
        sa.Column('step_days', sa.Integer(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        _fk('follow_ups_sent', 'user_id', 'users', 'CASCADE'),
        _fk('follow_ups_sent', 'episode_id', 'episodes', 'CASCADE'),
        _fk('follow_ups_sent', 'answer_id', 'answers', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups_sent')),
        sa.UniqueConstraint(
            'user_id', 'episode_id', 'step_days',
            name=op.f('uq_follow_ups_sent_user_id_episode_id_step_days'),
        ),
    )
    op.create_table(
        'follow_up_opt_outs',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        _fk('follow_up_opt_outs', 'user_id', 'users', 'CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_follow_up_opt_outs')),
    )


def downgrade():
    op.drop_table('follow_up_opt_outs')
    op.drop_table('follow_ups_sent')
    op.drop_index(op.f('ix_certificates_user_id'), table_name='certificates')
    op.drop_table('certificates')
    op.drop_index(op.f('ix_reflections_episode_id'), table_name='reflections')
    op.drop_table('reflections')
    for name in ('checkpoint_reminders_sent', 'checkpoint_extensions'):
        op.drop_index(op.f(f'ix_{name}_user_id'), table_name=name)
        op.drop_table(name)
    op.drop_table('assignment_checkpoints')
