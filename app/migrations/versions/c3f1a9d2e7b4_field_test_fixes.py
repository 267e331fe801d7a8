"""field-test fixes: email confirmation, contact preferences, fixed 'needed by' dates, and money
posts moved into the emergency fund

Revision ID: c3f1a9d2e7b4
Revises: b99459e6a0c4
Create Date: 2026-12-01 10:20:00

Data steps (each idempotent, in plain SQL through SQLAlchemy Core so that later changes to the
models or templates never change what this migration did):
- every existing member is confirmed (they signed up before confirmation existed);
- members without an email (registered by a coordinator) are reached through a contact person,
  in the same form any member may choose: the coordinator acting for them when the card is shown;
- open needs get the date their urgency meant when they were posted;
- open money posts are closed: their matches are cancelled (units released), a money offer that
  nothing was committed from becomes a one-off pledge, and the owner (or, for someone without an
  email, the coordinator who posted for them) gets an email that points to the fund.
"""
import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = 'c3f1a9d2e7b4'
down_revision = 'b99459e6a0c4'
branch_labels = None
depends_on = None

URGENCY_DAYS = {1: 7, 2: 2, 3: 0}

NEED_MAIL = """Hello {name},

Money is now asked for and given only through the community's emergency fund, so that two
coordinators decide every grant, the limits apply to everyone, and every dollar is in the ledger.
Your request "{title}" has been closed for that reason; nothing else changed.

To ask the fund, open {base}/fund/requests/new . The fund pays the landlord or company directly,
so have the payee's name ready. A coordinator can also file the request for you.

Mutual Aid Exchange
"""

OFFER_MAIL = """Hello {name},

Money is now given and asked for only through the community's emergency fund, so that two
coordinators decide every grant and every dollar is in the ledger. Your offer "{title}" has been
closed for that reason.
{pledge}
See the fund at {base}/fund/ .

Mutual Aid Exchange
"""


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('contact_method', sa.String(length=10), server_default='email', nullable=False))
        batch_op.add_column(sa.Column('contact_name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('contact_detail', sa.String(length=120), nullable=True))
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needed_by', sa.Date(), nullable=True))

    conn = op.get_bind()
    meta = sa.MetaData()
    users = sa.Table('users', meta, autoload_with=conn)
    posts = sa.Table('posts', meta, autoload_with=conn)
    matches = sa.Table('matches', meta, autoload_with=conn)
    outbox = sa.Table('outbox_emails', meta, autoload_with=conn)
    pledges = sa.Table('fund_pledges', meta, autoload_with=conn)
    now = _now()

    conn.execute(users.update().where(users.c.email_confirmed_at.is_(None)).values(email_confirmed_at=users.c.created_at))
    people = {row.id: row for row in conn.execute(sa.select(users.c.id, users.c.name, users.c.email, users.c.created_by_id,
                                                            users.c.password_hash, users.c.role))}
    conn.execute(users.update().where(users.c.email.is_(None)).values(contact_method='person'))

    zone = ZoneInfo(os.environ.get('COMMUNITY_TZ', 'America/Chicago'))
    for row in conn.execute(sa.select(posts.c.id, posts.c.urgency, posts.c.created_at)
                            .where(posts.c.kind == 'need', posts.c.urgency > 0, posts.c.needed_by.is_(None))).all():
        posted = row.created_at.replace(tzinfo=timezone.utc).astimezone(zone).date()
        conn.execute(posts.update().where(posts.c.id == row.id)
                     .values(needed_by=posted + timedelta(days=URGENCY_DAYS.get(row.urgency, 0))))

    try:
        from flask import current_app
        base = current_app.config.get('BASE_URL')
    except RuntimeError:
        base = None
    base = (base or os.environ.get('BASE_URL') or 'http://127.0.0.1:5000').rstrip('/')
    money = conn.execute(sa.select(posts).where(posts.c.category == 'emergency_funds', posts.c.status == 'open')).all()
    for post in money:
        committed = post.units_committed or 0  # before any release below: was anything promised?
        active = conn.execute(sa.select(matches.c.id, matches.c.status, matches.c.units, matches.c.need_id,
                                        matches.c.offer_id)
                              .where(sa.or_(matches.c.need_id == post.id, matches.c.offer_id == post.id),
                                     matches.c.status.in_(('proposed', 'approved', 'accepted')))).all()
        for m in active:
            conn.execute(matches.update().where(matches.c.id == m.id)
                         .values(status='cancelled', closed_at=now, reject_reason='Money goes through the fund'))
            if m.status in ('approved', 'accepted'):
                for other in (m.need_id, m.offer_id):
                    conn.execute(posts.update().where(posts.c.id == other, posts.c.units_committed >= m.units)
                                 .values(units_committed=posts.c.units_committed - m.units))
        conn.execute(posts.update().where(posts.c.id == post.id).values(status='withdrawn', closed_at=now))
        owner = people.get(post.owner_id)
        pledge_line = ''
        if post.kind == 'offer':
            # Unambiguous: an offer nothing was handed out from is a promise of that many dollars.
            if committed == 0 and post.quantity > 0 and owner is not None:
                conn.execute(pledges.insert().values(member_id=post.owner_id, amount_cents=post.quantity * 100,
                                                     frequency='one_off', active=True, created_at=now,
                                                     note=f'From your offer "{post.title}"'[:300]))
                pledge_line = (f"\nIt is now a one-off pledge of ${post.quantity:,} to the fund. A coordinator records "
                               "the money when it arrives; you can see it on the fund page.\n")
            else:
                pledge_line = ("\nPart of it was already promised to someone, so it was not turned into a pledge. "
                               "You can pledge to the fund on its page.\n")
        if owner is None:
            continue
        address = owner.email if owner.email and owner.password_hash else None
        on_behalf = False
        by = people.get(post.created_by_id)
        if address is None and by is not None and by.role in ('coordinator', 'admin'):  # only a coordinator today
            address, on_behalf = by.email, True
        if not address:
            continue
        name = (people[post.created_by_id].name if on_behalf else owner.name or '').split(' ')[0]
        template = NEED_MAIL if post.kind == 'need' else OFFER_MAIL
        body = template.format(name=name, title=' '.join(post.title.split()), base=base, pledge=pledge_line)
        if on_behalf:
            body = body.replace("Your request", "The request you posted for someone").replace(
                "Your offer", "The offer you posted for someone")
        conn.execute(outbox.insert().values(to_addr=address, subject='Money now goes through the emergency fund',
                                            body_text=body, body_html=None, kind='money_post_closed',
                                            status='pending', attempts=0, next_attempt_at=now, created_at=now))


def downgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('needed_by')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('contact_detail')
        batch_op.drop_column('contact_name')
        batch_op.drop_column('contact_method')
        batch_op.drop_column('email_confirmed_at')
