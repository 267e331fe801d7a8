"""reports of concern and messages between matched people

Revision ID: e2b3c4d5f6a7
Revises: e1a2b3c4d5f6
Create Date: 2026-12-01 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e2b3c4d5f6a7'
down_revision = 'e1a2b3c4d5f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'concerns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject_type', sa.String(length=10), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('match_id', sa.Integer(), nullable=True),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('reporter_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('holding', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolution_note', sa.Text(), nullable=True),
        sa.Column('action', sa.String(length=20), nullable=True),
        sa.CheckConstraint("category in ('safety', 'no_show', 'inappropriate', 'other')", name='ck_concerns_category'),
        sa.CheckConstraint("status in ('open', 'resolved')", name='ck_concerns_status'),
        sa.CheckConstraint(
            "(subject_type = 'post' AND post_id IS NOT NULL AND match_id IS NULL AND session_id IS NULL)"
            " OR (subject_type = 'match' AND match_id IS NOT NULL AND post_id IS NULL AND session_id IS NULL)"
            " OR (subject_type = 'session' AND session_id IS NOT NULL AND post_id IS NULL AND match_id IS NULL)",
            name='ck_concerns_one_subject'),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id']),
        sa.ForeignKeyConstraint(['match_id'], ['matches.id']),
        sa.ForeignKeyConstraint(['session_id'], ['group_sessions.id']),
        sa.ForeignKeyConstraint(['reporter_id'], ['users.id']),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_concerns_status_created', 'concerns', ['status', 'created_at'])
    op.create_index('ix_concerns_post_id', 'concerns', ['post_id'])
    op.create_index('ix_concerns_match_id', 'concerns', ['match_id'])
    op.create_index('ix_concerns_session_id', 'concerns', ['session_id'])
    op.create_index('ix_concerns_reporter_id', 'concerns', ['reporter_id'])

    op.create_table(
        'messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('match_id', sa.Integer(), nullable=False),
        sa.Column('side', sa.String(length=5), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("side in ('need', 'offer')", name='ck_messages_side'),
        sa.ForeignKeyConstraint(['match_id'], ['matches.id']),
        sa.ForeignKeyConstraint(['author_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_messages_match_created', 'messages', ['match_id', 'created_at'])
    op.create_index('ix_messages_author_created', 'messages', ['author_id', 'created_at'])


def downgrade():
    op.drop_index('ix_messages_author_created', table_name='messages')
    op.drop_index('ix_messages_match_created', table_name='messages')
    op.drop_table('messages')
    op.drop_index('ix_concerns_reporter_id', table_name='concerns')
    op.drop_index('ix_concerns_session_id', table_name='concerns')
    op.drop_index('ix_concerns_match_id', table_name='concerns')
    op.drop_index('ix_concerns_post_id', table_name='concerns')
    op.drop_index('ix_concerns_status_created', table_name='concerns')
    op.drop_table('concerns')
