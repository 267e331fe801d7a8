"""members' rights over their data: deletion with a pseudonym, retention

Revision ID: e3c4d5f6a7b8
Revises: e2b3c4d5f6a7
Create Date: 2026-12-01 21:00:00

- users.deleted_at: an account deleted under a pseudonym (the row stays for the books and the audit log).
- ledger_notes: the words typed about a ledger transaction (its reference, a reversal's reason) move
  out of the append-only ledger, so deleting an account can erase a name typed there. The ledger
  keeps kinds, amounts, dates and ids; memos become "Reverses #12" and the reason moves to the note.
- audit_log: entries kept a reason typed by a coordinator (reject, fund decline, cancel, reversal);
  the same words are on the match, the request or the ledger note, so the entries keep codes only.
- purged_counts: the counts retention leaves when it removes old messages, notes and emails.
"""
import re

from alembic import op
import sqlalchemy as sa


revision = 'e3c4d5f6a7b8'
down_revision = 'e2b3c4d5f6a7'
branch_labels = None
depends_on = None

REASON_ACTIONS = ('reject', 'fund_reversal', 'fund_decline', 'fund_cancel')
_REVERSAL = re.compile(r"^(Reverses #\d+): (.*)$", re.S)

ledger = sa.table('ledger_transactions', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                  sa.column('memo', sa.String), sa.column('reference', sa.String))
notes = sa.table('ledger_notes', sa.column('transaction_id', sa.Integer), sa.column('reference', sa.String),
                 sa.column('reason', sa.String))
audit = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('action', sa.String),
                 sa.column('subject_id', sa.Integer), sa.column('details', sa.JSON))


def _append_only_off(table: str) -> None:
    """These tables refuse UPDATE by trigger on PostgreSQL; this migration rewrites rows once."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE {table} DISABLE TRIGGER {table}_append_only')


def _append_only_on(table: str) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE {table} ENABLE TRIGGER {table}_append_only')


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
    op.create_table('ledger_notes',
                    sa.Column('transaction_id', sa.Integer(), nullable=False),
                    sa.Column('reference', sa.String(length=120), nullable=True),
                    sa.Column('reason', sa.String(length=300), nullable=True),
                    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], ),
                    sa.PrimaryKeyConstraint('transaction_id'))
    op.create_table('purged_counts',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(length=40), nullable=False),
                    sa.Column('month', sa.String(length=7), nullable=False),
                    sa.Column('count', sa.Integer(), server_default='0', nullable=False),
                    sa.Column('updated_at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('kind', 'month', name='uq_purged_counts_kind_month'))
    bind = op.get_bind()
    memos = {}
    for tx_id, kind, memo, reference in bind.execute(sa.select(ledger.c.id, ledger.c.kind, ledger.c.memo,
                                                               ledger.c.reference)).all():
        found = _REVERSAL.match(memo or '') if kind == 'reversal' else None
        reason = found.group(2) if found else None
        if found:
            memos[tx_id] = found.group(1)
        if reference or reason:
            bind.execute(notes.insert().values(transaction_id=tx_id, reference=reference, reason=reason))
    if memos:
        _append_only_off('ledger_transactions')
        for tx_id, memo in memos.items():
            bind.execute(ledger.update().where(ledger.c.id == tx_id).values(memo=memo))
        _append_only_on('ledger_transactions')
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_column('reference')
    rows = [(i, d) for i, d in bind.execute(sa.select(audit.c.id, audit.c.details)
                                           .where(audit.c.action.in_(REASON_ACTIONS))).all()
            if isinstance(d, dict) and 'reason' in d]
    if rows:
        _append_only_off('audit_log')
        for entry_id, details in rows:
            kept = {k: v for k, v in details.items() if k != 'reason'}
            bind.execute(audit.update().where(audit.c.id == entry_id).values(details=kept))
        _append_only_on('audit_log')


def downgrade():
    bind = op.get_bind()
    matches = sa.table('matches', sa.column('id', sa.Integer), sa.column('reject_reason', sa.String))
    requests = sa.table('fund_requests', sa.column('id', sa.Integer), sa.column('decline_reason', sa.String))
    reasons = {
        'reject': dict(bind.execute(sa.select(matches.c.id, matches.c.reject_reason)).all()),
        'fund_decline': dict(bind.execute(sa.select(requests.c.id, requests.c.decline_reason)).all()),
        'fund_reversal': dict(bind.execute(sa.select(notes.c.transaction_id, notes.c.reason)).all()),
    }
    reasons['fund_cancel'] = reasons['fund_decline']
    rows = bind.execute(sa.select(audit.c.id, audit.c.action, audit.c.subject_id, audit.c.details)
                        .where(audit.c.action.in_(REASON_ACTIONS))).all()
    restored = [(i, dict(d or {}, reason=reasons[a][s])) for i, a, s, d in rows if reasons[a].get(s)]
    if restored:
        _append_only_off('audit_log')
        for entry_id, details in restored:
            bind.execute(audit.update().where(audit.c.id == entry_id).values(details=details))
        _append_only_on('audit_log')
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=120), nullable=True))
    saved = bind.execute(sa.select(notes.c.transaction_id, notes.c.reference, notes.c.reason, ledger.c.memo)
                         .join(ledger, ledger.c.id == notes.c.transaction_id)).all()
    if saved:
        _append_only_off('ledger_transactions')
        for tx_id, reference, reason, memo in saved:
            values = {'reference': reference}
            if reason:
                values['memo'] = f'{memo}: {reason}'[:300]
            bind.execute(ledger.update().where(ledger.c.id == tx_id).values(**values))
        _append_only_on('ledger_transactions')
    op.drop_table('purged_counts')
    op.drop_table('ledger_notes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
