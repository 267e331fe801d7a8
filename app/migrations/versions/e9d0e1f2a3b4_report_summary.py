"""the reports' daily summary: one row a day (needs by category, town and outcome, the times
they took), a mark of how far it has counted; matches get updated_at so changes can be found

Revision ID: e9d0e1f2a3b4
Revises: e8c9d0e1f2a3
Create Date: 2026-12-02 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e9d0e1f2a3b4'
down_revision = 'e8c9d0e1f2a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('needs', sa.Integer(), nullable=False),
        sa.Column('completed', sa.Integer(), nullable=False),
        sa.Column('no_shows', sa.Integer(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('approval', sa.JSON(), nullable=False),
        sa.Column('done', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('day'),
    )
    marks = op.create_table(
        'report_marks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('counted_to', sa.DateTime(), nullable=True),
        sa.Column('rebuilt_at', sa.DateTime(), nullable=True),
        sa.Column('zone', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    # The one row, never counted yet: the reports count everything from the posts until the
    # worker's first refresh.
    op.bulk_insert(marks, [{'id': 1, 'counted_to': None, 'rebuilt_at': None, 'zone': None}])
    # Nullable, so that SQLite can add it in place; every row gets a value (new ones from the model).
    op.add_column('matches', sa.Column('updated_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE matches SET updated_at = COALESCE(closed_at, decided_at, created_at)")
    op.create_index('ix_matches_updated', 'matches', ['updated_at'])
    op.create_index('ix_posts_updated', 'posts', ['updated_at'])


def downgrade():
    op.drop_index('ix_posts_updated', table_name='posts')
    op.drop_index('ix_matches_updated', table_name='matches')
    with op.batch_alter_table('matches') as batch:
        batch.drop_column('updated_at')
    op.drop_table('report_marks')
    op.drop_table('report_days')
