"""CSV imports of members and posts (jobs, rows, what each row became)

Revision ID: e6a7b8c9d0e1
Revises: e5f6a7b8c9d0
Create Date: 2026-12-01 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e6a7b8c9d0e1'
down_revision = 'e5f6a7b8c9d0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('total_rows', sa.Integer(), nullable=False),
        sa.Column('good_rows', sa.Integer(), nullable=False),
        sa.Column('skipped_rows', sa.Integer(), nullable=False),
        sa.Column('problem_rows', sa.Integer(), nullable=False),
        sa.Column('done_rows', sa.Integer(), nullable=False),
        sa.Column('members_created', sa.Integer(), nullable=False),
        sa.Column('posts_created', sa.Integer(), nullable=False),
        sa.Column('failed_rows', sa.Integer(), nullable=False),
        sa.Column('file_problems', sa.JSON(), nullable=False),
        sa.Column('failures', sa.JSON(), nullable=False),
        sa.CheckConstraint("status in ('preview', 'queued', 'running', 'done', 'failed', 'discarded')",
                           name='ck_import_jobs_status'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_import_jobs_created_by_id', 'import_jobs', ['created_by_id'])
    op.create_table(
        'import_rows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('problems', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['import_jobs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_import_rows_job_state', 'import_rows', ['job_id', 'state', 'id'])
    op.create_index('ix_import_rows_email', 'import_rows', ['email'])
    op.create_table(
        'import_keys',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id']),
        sa.ForeignKeyConstraint(['job_id'], ['import_jobs.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_import_keys_user_id', 'import_keys', ['user_id'])
    op.create_index('ix_import_keys_post_id', 'import_keys', ['post_id'])


def downgrade():
    op.drop_index('ix_import_keys_post_id', table_name='import_keys')
    op.drop_index('ix_import_keys_user_id', table_name='import_keys')
    op.drop_table('import_keys')
    op.drop_index('ix_import_rows_email', table_name='import_rows')
    op.drop_index('ix_import_rows_job_state', table_name='import_rows')
    op.drop_table('import_rows')
    op.drop_index('ix_import_jobs_created_by_id', table_name='import_jobs')
    op.drop_table('import_jobs')
