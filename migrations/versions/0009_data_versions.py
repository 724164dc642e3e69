"""A counter per table, raised by each commit that writes to it

Pages kept whole per reader (coprod_study.page_cache) note the counters of the
tables they were built from and are served again only while those are unchanged.

Revision ID: 0009
Revises: 0008
Created: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_versions',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions')),
    )


def downgrade():
    op.drop_table('data_versions')
