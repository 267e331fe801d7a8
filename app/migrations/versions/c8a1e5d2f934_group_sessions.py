"""group sessions: series of workshop and peer-group sessions, seats, waiting lists, feedback, calendar feeds

Revision ID: c8a1e5d2f934
Revises: b3d7f2a1c6e8
Create Date: 2026-12-01 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c8a1e5d2f934'
down_revision = 'b3d7f2a1c6e8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'session_series',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('offer_id', sa.Integer(), nullable=False),
        sa.Column('host_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('rrule', sa.Text(), nullable=True),
        sa.Column('first_start_local', sa.DateTime(), nullable=False),
        sa.Column('duration_min', sa.Integer(), nullable=False),
        sa.Column('places', sa.Integer(), nullable=False),
        sa.Column('place_details', sa.String(length=500), nullable=False),
        sa.Column('ask_first', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint('duration_min > 0', name='ck_session_series_duration'),
        sa.CheckConstraint('places > 0', name='ck_session_series_places'),
        sa.ForeignKeyConstraint(['offer_id'], ['posts.id']),
        sa.ForeignKeyConstraint(['host_id'], ['users.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_session_series_offer_id', 'session_series', ['offer_id'])
    op.create_index('ix_session_series_host_id', 'session_series', ['host_id'])

    op.create_table(
        'group_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series_id', sa.Integer(), nullable=False),
        sa.Column('offer_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('original_start', sa.DateTime(), nullable=False),
        sa.Column('places', sa.Integer(), nullable=False),
        sa.Column('taken', sa.Integer(), server_default='0', nullable=False),
        sa.Column('place_details', sa.String(length=500), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('moved_at', sa.DateTime(), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(), nullable=True),
        sa.Column('reminded_at', sa.DateTime(), nullable=True),
        sa.Column('host_reminded_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('ends_at > starts_at', name='ck_group_sessions_order'),
        sa.CheckConstraint('places > 0', name='ck_group_sessions_places'),
        sa.CheckConstraint('taken >= 0 AND taken <= places', name='ck_group_sessions_taken'),
        sa.CheckConstraint("status in ('scheduled', 'cancelled')", name='ck_group_sessions_status'),
        sa.ForeignKeyConstraint(['series_id'], ['session_series.id']),
        sa.ForeignKeyConstraint(['offer_id'], ['posts.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('series_id', 'original_start', name='uq_group_sessions_occurrence'),
    )
    op.create_index('ix_group_sessions_status_start', 'group_sessions', ['status', 'starts_at'])
    op.create_index('ix_group_sessions_series_start', 'group_sessions', ['series_id', 'starts_at'])
    op.create_index('ix_group_sessions_offer_id', 'group_sessions', ['offer_id'])

    op.create_table(
        'session_seats',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('from_series', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('share_contact', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('attended', sa.Boolean(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("status in ('joined', 'waiting', 'requested', 'left', 'refused')",
                           name='ck_session_seats_status'),
        sa.ForeignKeyConstraint(['session_id'], ['group_sessions.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('session_id', 'user_id', name='uq_session_seats_person'),
    )
    op.create_index('ix_session_seats_line', 'session_seats', ['session_id', 'status', 'queued_at', 'id'])
    op.create_index('ix_session_seats_user_status', 'session_seats', ['user_id', 'status'])

    op.create_table(
        'series_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('share_contact', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("status in ('member', 'requested', 'refused', 'left')", name='ck_series_members_status'),
        sa.ForeignKeyConstraint(['series_id'], ['session_series.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('series_id', 'user_id', name='uq_series_members_person'),
    )
    op.create_index('ix_series_members_user', 'series_members', ['user_id'])

    op.create_table(
        'session_feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['group_sessions.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('session_id', 'user_id', name='uq_session_feedback_person'),
    )

    op.create_table(
        'calendar_feeds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id'),
        sa.UniqueConstraint('token'),
    )


def downgrade():
    op.drop_table('calendar_feeds')
    op.drop_table('session_feedback')
    op.drop_index('ix_series_members_user', table_name='series_members')
    op.drop_table('series_members')
    op.drop_index('ix_session_seats_user_status', table_name='session_seats')
    op.drop_index('ix_session_seats_line', table_name='session_seats')
    op.drop_table('session_seats')
    op.drop_index('ix_group_sessions_offer_id', table_name='group_sessions')
    op.drop_index('ix_group_sessions_series_start', table_name='group_sessions')
    op.drop_index('ix_group_sessions_status_start', table_name='group_sessions')
    op.drop_table('group_sessions')
    op.drop_index('ix_session_series_host_id', table_name='session_series')
    op.drop_index('ix_session_series_offer_id', table_name='session_series')
    op.drop_table('session_series')
