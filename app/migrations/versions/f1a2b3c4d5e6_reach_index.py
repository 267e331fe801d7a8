"""the engine's reach index: the farthest an open offer of a category travels, without reading them all

(A proposal for a new need reads MAX(radius_miles) over the open offers of its category; at 100,000
posts that read 5,000 rows, 7 ms of each proposal.)

Revision ID: f1a2b3c4d5e6
Revises: e9d0e1f2a3b4
Create Date: 2026-12-02 17:50:00
"""
from alembic import op


revision = 'f1a2b3c4d5e6'
down_revision = 'e9d0e1f2a3b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_posts_reach', 'posts', ['kind', 'status', 'category', 'radius_miles'])


def downgrade():
    op.drop_index('ix_posts_reach', table_name='posts')
