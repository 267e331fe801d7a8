"""post terms: the words of each open post in an index, so search reads the index instead of
every post

Revision ID: f4b8d2a6c913
Revises: e7a3c9f05b21
Create Date: 2026-12-01 12:00:00

Fills the table for the open posts that exist. The folding is written out here (not imported
from app.services.search) so that later changes to the app never change what this migration did.
"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


revision = 'f4b8d2a6c913'
down_revision = 'e7a3c9f05b21'
branch_labels = None
depends_on = None

_WORD = re.compile(r"[^\W_]+")


def _terms(title, details):
    text = unicodedata.normalize("NFKD", f"{title} {(details or '')[:300]}".casefold())
    folded = "".join(ch for ch in text if not unicodedata.combining(ch))
    return sorted({w[:40] for w in _WORD.findall(folded) if len(w) > 1})


def upgrade():
    op.create_table(
        'post_terms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('term', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('post_id', 'term', name='uq_post_terms_post_term'),
    )
    op.create_index('ix_post_terms_term', 'post_terms', ['term', 'post_id'], unique=False)

    conn = op.get_bind()
    posts = sa.table('posts', sa.column('id', sa.Integer), sa.column('title', sa.String),
                     sa.column('details', sa.Text), sa.column('status', sa.String))
    terms = sa.table('post_terms', sa.column('post_id', sa.Integer), sa.column('term', sa.String))
    rows = conn.execute(sa.select(posts.c.id, posts.c.title, sa.func.substr(posts.c.details, 1, 300))
                        .where(posts.c.status == 'open').order_by(posts.c.id)).all()
    batch = []
    for post_id, title, details in rows:
        batch += [{'post_id': post_id, 'term': term} for term in _terms(title, details)]
        if len(batch) >= 5000:
            conn.execute(terms.insert(), batch)
            batch = []
    if batch:
        conn.execute(terms.insert(), batch)


def downgrade():
    op.drop_index('ix_post_terms_term', table_name='post_terms')
    op.drop_table('post_terms')
