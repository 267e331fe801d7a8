"""repeating needs: occurrences of a need (and the legs of a ride there and back), standing matches

Revision ID: d9b2f6e3a045
Revises: c8a1e5d2f934
Create Date: 2026-12-01 20:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd9b2f6e3a045'
down_revision = 'c8a1e5d2f934'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posts') as batch:
        batch.add_column(sa.Column('repeat_rule', sa.Text(), nullable=True))
        batch.add_column(sa.Column('return_min', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('repeats', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('matches') as batch:
        batch.add_column(sa.Column('standing', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'need_occurrences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('need_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('leg', sa.String(length=6), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('match_id', sa.Integer(), nullable=True),
        sa.Column('reminded_at', sa.DateTime(), nullable=True),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('ends_at > starts_at', name='ck_occurrence_order'),
        sa.CheckConstraint("leg in ('out', 'return')", name='ck_occurrence_leg'),
        sa.ForeignKeyConstraint(['need_id'], ['posts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['match_id'], ['matches.id']),
        sa.ForeignKeyConstraint(['changed_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('need_id', 'key', name='uq_occurrence_need_key'),
    )
    op.create_index('ix_occurrences_need_start', 'need_occurrences', ['need_id', 'starts_at'])
    op.create_index('ix_occurrences_match', 'need_occurrences', ['match_id'])


def downgrade():
    op.drop_index('ix_occurrences_match', table_name='need_occurrences')
    op.drop_index('ix_occurrences_need_start', table_name='need_occurrences')
    op.drop_table('need_occurrences')
    with op.batch_alter_table('matches') as batch:
        batch.drop_column('standing')
    with op.batch_alter_table('posts') as batch:
        batch.drop_column('repeats')
        batch.drop_column('return_min')
        batch.drop_column('repeat_rule')
