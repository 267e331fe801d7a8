"""text messages: the outbox of texts, verified mobile numbers, channels per kind of notice,
texts received, the short codes of a listed reply, requests for help by text

No existing row changes: nobody has a verified number yet, so every notice keeps going by email.

Revision ID: e5f6a7b8c9d0
Revises: e4d5f6a7b8c9
Create Date: 2026-12-01 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e5f6a7b8c9d0'
down_revision = 'e4d5f6a7b8c9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('mobile', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('mobile_verified_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('mobile_consent_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mobile_consent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('texts_stopped_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint('uq_users_mobile', ['mobile'])
        batch_op.create_foreign_key('fk_users_mobile_consent_by_id', 'users', ['mobile_consent_by_id'], ['id'])
    op.create_table(
        'outbox_texts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('to_number', sa.String(length=16), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('happens_at', sa.DateTime(), nullable=True),
        sa.Column('claim_token', sa.String(length=40), nullable=True),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('provider_id', sa.String(length=64), nullable=True),
        sa.Column('delivery', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_outbox_texts_due', 'outbox_texts', ['status', 'next_attempt_at'])
    op.create_index('ix_outbox_texts_user_id', 'outbox_texts', ['user_id'])
    op.create_index('ix_outbox_texts_claim_token', 'outbox_texts', ['claim_token'])
    op.create_index('ix_outbox_texts_provider_id', 'outbox_texts', ['provider_id'])
    op.create_table(
        'phone_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=16), nullable=False),
        sa.Column('code_hash', sa.String(length=128), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('consent_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['consent_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_phone_codes_user_id', 'phone_codes', ['user_id'])
    op.create_table(
        'notice_choices',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('email', sa.Boolean(), nullable=False),
        sa.Column('text', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('user_id', 'kind'),
    )
    op.create_table(
        'inbound_texts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('command', sa.String(length=12), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('seen_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['seen_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('provider_id', name='uq_inbound_texts_provider_id'),
    )
    op.create_index('ix_inbound_texts_user_id', 'inbound_texts', ['user_id'])
    op.create_index('ix_inbound_texts_created_at', 'inbound_texts', ['created_at'])
    op.create_table(
        'text_choices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.Integer(), nullable=False),
        sa.Column('question', sa.String(length=12), nullable=False),
        sa.Column('match_id', sa.Integer(), nullable=False),
        sa.Column('occurrence_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['match_id'], ['matches.id']),
        sa.ForeignKeyConstraint(['occurrence_id'], ['need_occurrences.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'code', name='uq_text_choices_user_code'),
    )
    op.create_index('ix_text_choices_user_id', 'text_choices', ['user_id'])
    op.create_table(
        'text_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('category', sa.String(length=30), nullable=True),
        sa.Column('starts_at', sa.DateTime(), nullable=True),
        sa.Column('parsed', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('handled_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id']),
        sa.ForeignKeyConstraint(['handled_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_text_requests_user_id', 'text_requests', ['user_id'])
    op.create_index('ix_text_requests_status', 'text_requests', ['status'])


def downgrade():
    for name in ('text_requests', 'text_choices', 'inbound_texts', 'notice_choices', 'phone_codes', 'outbox_texts'):
        op.drop_table(name)
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_constraint('fk_users_mobile_consent_by_id', type_='foreignkey')
        batch_op.drop_constraint('uq_users_mobile', type_='unique')
        for column in ('texts_stopped_at', 'mobile_consent_at', 'mobile_consent_by_id', 'mobile_verified_at', 'mobile'):
            batch_op.drop_column(column)
