"""job runs: one row per scheduled job and period, the lease that makes each job run once

Revision ID: a9c4e1f7d203
Revises: f4b8d2a6c913
Create Date: 2026-12-01 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a9c4e1f7d203'
down_revision = 'f4b8d2a6c913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job', sa.String(length=40), nullable=False),
        sa.Column('period', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('token', sa.String(length=40), nullable=False),
        sa.Column('worker', sa.String(length=80), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('lease_until', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=True),
        sa.Column('summary', sa.String(length=300), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('job', 'period', name='uq_job_runs_job_period'),
    )
    op.create_index('ix_job_runs_job_status_finished', 'job_runs', ['job', 'status', 'finished_at'])


def downgrade():
    op.drop_index('ix_job_runs_job_status_finished', table_name='job_runs')
    op.drop_table('job_runs')
