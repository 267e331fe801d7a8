"""vetting checks, what each kind of help needs, blocks and bars

Revision ID: e1a2b3c4d5f6
Revises: d9b2f6e3a045
Create Date: 2026-12-01 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e1a2b3c4d5f6'
down_revision = 'd9b2f6e3a045'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'vetting_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('checked_on', sa.Date(), nullable=False),
        sa.Column('checked_by_id', sa.Integer(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('reminded_for', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['checked_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'kind', name='uq_vetting_checks_user_kind'),
    )
    op.create_index('ix_vetting_checks_expires_on', 'vetting_checks', ['expires_on'])

    op.create_table(
        'help_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=30), nullable=False),
        sa.Column('audience', sa.String(length=12), nullable=False),
        sa.Column('check_kind', sa.String(length=20), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('category', 'audience', 'check_kind', name='uq_help_rules'),
    )

    op.create_table(
        'blocks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('blocker_id', sa.Integer(), nullable=False),
        sa.Column('blocked_id', sa.Integer(), nullable=False),
        sa.Column('context', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('blocker_id <> blocked_id', name='ck_blocks_not_self'),
        sa.ForeignKeyConstraint(['blocker_id'], ['users.id']),
        sa.ForeignKeyConstraint(['blocked_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('blocker_id', 'blocked_id', 'context', name='uq_blocks_pair_context'),
    )
    op.create_index('ix_blocks_blocked_id', 'blocks', ['blocked_id'])

    op.create_table(
        'bars',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('resident_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('lifted_at', sa.DateTime(), nullable=True),
        sa.Column('lifted_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['users.id']),
        sa.ForeignKeyConstraint(['resident_id'], ['users.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bars_person_lifted', 'bars', ['person_id', 'lifted_at'])
    op.create_index('ix_bars_resident_id', 'bars', ['resident_id'])


def downgrade():
    op.drop_index('ix_bars_resident_id', table_name='bars')
    op.drop_index('ix_bars_person_lifted', table_name='bars')
    op.drop_table('bars')
    op.drop_index('ix_blocks_blocked_id', table_name='blocks')
    op.drop_table('blocks')
    op.drop_table('help_rules')
    op.drop_index('ix_vetting_checks_expires_on', table_name='vetting_checks')
    op.drop_table('vetting_checks')
