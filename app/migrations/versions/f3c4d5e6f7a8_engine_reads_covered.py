"""the engine's read of the offers within reach of a new need, from an index alone

ix_posts_category_place gains the columns that read needs (units committed and quantity, the change
stamp, the id): at 100,000 posts the 7,000 food offers within reach of a need came in 23 ms from
the table, 9 ms from the index.

Revision ID: f3c4d5e6f7a8
Revises: f2b3c4d5e6f7
Create Date: 2026-12-03 10:05:00
"""
from alembic import op


revision = 'f3c4d5e6f7a8'
down_revision = 'f2b3c4d5e6f7'
branch_labels = None
depends_on = None

NARROW = ['kind', 'status', 'category', 'cell_lat', 'cell_lon', 'expires_at']
WIDE = NARROW + ['units_committed', 'quantity', 'updated_at', 'id']


def upgrade():
    op.drop_index('ix_posts_category_place', table_name='posts')
    op.create_index('ix_posts_category_place', 'posts', WIDE)


def downgrade():
    op.drop_index('ix_posts_category_place', table_name='posts')
    op.create_index('ix_posts_category_place', 'posts', NARROW)
