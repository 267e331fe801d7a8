"""browse indexes: one per sort order, and the urgency order as one indexed column

Revision ID: e7a3c9f05b21
Revises: d5e2b7c41a90
Create Date: 2026-12-01 11:20:00

"""
from datetime import date, datetime, timezone
import os
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = 'e7a3c9f05b21'
down_revision = 'd5e2b7c41a90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgency_key', sa.Date(), server_default='9000-01-01', nullable=False))
        batch_op.create_index('ix_posts_newest', ['kind', 'status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_posts_category_newest', ['kind', 'status', 'category', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_posts_urgent', ['kind', 'status', 'urgency_key', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_posts_category_urgent', ['kind', 'status', 'category', 'urgency_key', 'created_at', 'id'],
                              unique=False)
        # Its (status, kind, category, expires_at) lured SQLite's planner into sorting every match;
        # the indexes above serve the same equalities, in order.
        batch_op.drop_index('ix_posts_browse')
    zone = ZoneInfo(os.environ.get('COMMUNITY_TZ', 'America/Chicago'))
    today = datetime.now(timezone.utc).astimezone(zone).date()
    posts = sa.table('posts', sa.column('needed_by', sa.Date), sa.column('urgency_key', sa.Date))
    op.execute(posts.update().where(posts.c.needed_by.is_not(None), posts.c.needed_by >= today)
               .values(urgency_key=posts.c.needed_by))
    op.execute(posts.update().where(posts.c.needed_by.is_not(None), posts.c.needed_by < today)
               .values(urgency_key=date(9999, 12, 31)))


def downgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_browse', ['status', 'kind', 'category', 'expires_at'], unique=False)
        batch_op.drop_index('ix_posts_category_urgent')
        batch_op.drop_index('ix_posts_urgent')
        batch_op.drop_index('ix_posts_category_newest')
        batch_op.drop_index('ix_posts_newest')
        batch_op.drop_column('urgency_key')
