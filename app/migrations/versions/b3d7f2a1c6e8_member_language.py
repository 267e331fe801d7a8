"""member language: the language of each member's pages, emails and texts

Revision ID: b3d7f2a1c6e8
Revises: a9c4e1f7d203
Create Date: 2026-12-01 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b3d7f2a1c6e8'
down_revision = 'a9c4e1f7d203'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('language')
