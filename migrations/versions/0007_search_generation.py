"""The search generation: a number raised when search documents change or go

Revision ID: 0007
Revises: 0006
Created: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    generation = op.create_table('search_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_generation'))
    )
    op.bulk_insert(generation, [{'id': 1, 'value': 0}])


def downgrade():
    op.drop_table('search_generation')
