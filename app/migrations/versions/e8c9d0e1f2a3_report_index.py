"""an index for the coordinators' reports: every match of the needs in a period, whatever its state

(The reports are GROUP BY queries over posts and matches; no summary table is needed at 100,000 posts.)

Revision ID: e8c9d0e1f2a3
Revises: e7b8c9d0e1f2
Create Date: 2026-12-01 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e8c9d0e1f2a3'
down_revision = 'e7b8c9d0e1f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_matches_need', 'matches', ['need_id'])


def downgrade():
    op.drop_index('ix_matches_need', table_name='matches')
