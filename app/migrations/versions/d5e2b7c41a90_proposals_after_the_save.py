"""proposals after the save: posts.proposed_at, so a post whose proposals were never computed is
found and proposed by the next tick

Revision ID: d5e2b7c41a90
Revises: c3f1a9d2e7b4
Create Date: 2026-12-01 10:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd5e2b7c41a90'
down_revision = 'c3f1a9d2e7b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_at', sa.DateTime(), nullable=True))
    # Until now proposals were computed in the transaction that saved the post.
    op.execute("UPDATE posts SET proposed_at = updated_at")


def downgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('proposed_at')
