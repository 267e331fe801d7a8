"""A member who has done everything the site offers, for the export and deletion tests; and a scan
of every column of every table for what names a person."""
import json
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app import models
from app.extensions import db
from app.models import GroupSession, Match
from app.services import (accounts, calendar, cases, disclosure, followup, fund, groups_join, groups_roster, matches,
                          messages)
from app.services.digests import subscription_for
from app.services.repeat import RepeatInput
from tests.conftest import local_dt
from tests.services.groups_helpers import group_offer, schedule, sessions_of

NAME = "Zebulon Quaxley"
EMAIL = "zebulon.quaxley@example.org"
PHONE = "651-555-0142"
PASSWORD = "correct horse battery"
TODAY = datetime.now(ZoneInfo("America/Chicago")).date()  # the community's date (TestConfig's zone)


def link(m) -> str:
    return f"http://localhost/x/{m.id}"


def _approved_match(coord, need, offer):
    return matches.manual_match(coord, need.id, offer.id, None, link)


def everything(make_user, make_post) -> SimpleNamespace:
    """Zebulon (a resident who can log in) with posts, matches, messages, fund, groups, digests,
    emails, case notes and audit entries; and the people around them."""
    s = SimpleNamespace()
    s.coord = make_user("coordinator", name="Cora Coord", email="cora@example.org")
    s.coord2 = make_user("coordinator", name="Dana Coord", email="dana@example.org")
    s.coord3 = make_user("coordinator", name="Eli Coord", email="eli@example.org")
    s.helper = make_user(name="Hal Helper", email="hal@example.org")
    s.asker = make_user(name="Ada Asker", email="ada@example.org")
    s.host = make_user(name="Hana Host", email="hana@example.org")
    s.waiting = make_user(name="Wes Waiting", email="wes@example.org")
    z = s.z = make_user("resident", name=NAME, email=EMAIL, password=PASSWORD)
    z.phone, z.contact_method, z.created_by_id = PHONE, "phone", s.coord.id
    # Hal named Zebulon as his contact person.
    s.helper.contact_method, s.helper.contact_name, s.helper.contact_detail = "person", NAME, PHONE
    db.session.commit()

    # Posts: a ride with the exact place, one that repeats, an offer, a group Zebulon hosts.
    s.ride = make_post(z, title="Ride to the clinic", details=f"Call {NAME} at {PHONE} when you are outside",
                       street_address="12 Birch Lane", pickup_area="Back door by the garden")
    first = local_dt(days=3, hour=10)
    s.weekly = make_post(z, title="Groceries", category="food", flexible=False, windows=[(first, first + timedelta(hours=2))],
                         repeat=RepeatInput(days=[first.weekday()], count=4))
    s.offer = make_post(z, kind="offer", category="household_items", title="Spare chairs", details=f"Ask for {NAME}")
    s.group = group_offer(make_post, z, category="skills", title="Budgeting workshop")
    (s.hosted_session,) = sessions_of(schedule(z, s.group, places=4, ask_first=False,
                                               place_details=f"{NAME}'s kitchen, 12 Birch Lane"))
    groups_join.join_session(s.asker, s.hosted_session.id, link_for=link)

    # Matches: Hal drives Zebulon (approved, contact seen, messages); a done one with feedback;
    # Zebulon offers chairs to Ada's need ("I can help", still waiting for a coordinator).
    s.hal_rides = make_post(s.helper, kind="offer", title="Rides around town", quantity=3)
    s.ride_match = _approved_match(s.coord, s.ride, s.hal_rides)
    disclosure.contact_cards(s.helper, s.ride_match)
    disclosure.contact_cards(s.coord, s.ride_match)
    messages.send(s.helper, s.ride_match.id, f"Hello {NAME}, see you soon", link)
    messages.send(z, s.ride_match.id, f"Thanks! I am {NAME}, my number is {PHONE}", link)
    s.done_need = make_post(z, title="Ride to the pharmacy")
    done = _approved_match(s.coord, s.done_need, s.hal_rides)
    matches.answer(z, done.id, True)
    matches.answer(s.helper, done.id, True)
    followup.record_outcome(z, done.id, True, f"Hal was great, {NAME} says thanks")
    followup.record_outcome(s.helper, done.id, True, f"Lovely to meet {NAME}")
    s.ada_need = make_post(s.asker, category="household_items", title="Need two chairs")
    s.volunteered = matches.volunteer(z, s.ada_need.id, s.offer.id, f"{NAME} here, I have chairs")

    # The fund: a pledge and its receipts (one reversed), a request paid, one declined.
    fund.record_receipt(s.coord, "1000", "check", TODAY, None, "chk 1")
    s.pledge = fund.pledge(z, "25", "monthly", f"From {NAME}")
    fund.record_receipt(s.coord, "25", "online", TODAY, s.pledge.id, f"Zelle {NAME} {PHONE}")
    wrong = fund.record_receipt(s.coord, "25", "online", TODAY, s.pledge.id, f"Zelle {EMAIL}")
    fund.reverse(s.coord, wrong.id, f"{NAME} was charged twice")
    s.paid = fund.create_request(s.coord, z, "100", "rent", "Birch Lane Properties", f"{NAME} is behind on rent")
    fund.approve(s.coord2, s.paid.id)
    fund.approve(s.coord3, s.paid.id)
    fund.record_payment(s.coord2, s.paid.id, TODAY, "check", f"chk 42 for {NAME}")
    s.declined = fund.create_request(z, z, "50", "utilities", "Power Co")
    fund.decline(s.coord2, s.declined.id, f"{NAME} was helped last month")

    # Groups: a place (contact shared) in Hana's session, Wes waiting behind; feedback afterwards.
    hana_group = group_offer(make_post, s.host, title="Thursday circle")
    (s.session,) = sessions_of(schedule(s.host, hana_group, places=1, ask_first=False))
    groups_join.join_session(z, s.session.id, share_contact=True, link_for=link)
    groups_join.join_session(s.waiting, s.session.id, link_for=link)
    groups_roster.roster(s.host, s.session.id)
    after = s.session.starts_at + timedelta(hours=2)
    groups_roster.leave_feedback(z, s.session.id, f"{NAME} enjoyed it", now=after)

    # Settings, notes, feeds, emails, and what other helpers' tables hold.
    subscription_for(z)
    db.session.commit()
    calendar.reset_feed(z)
    cases.add_note(s.coord, z, f"{NAME} moved in; phone {PHONE}, email {EMAIL}")
    accounts.request_password_reset(EMAIL, lambda token: f"http://localhost/reset/{token}")
    _other_tables(s)
    db.session.commit()
    return s


def _other_tables(s) -> None:
    """Rows of tables other parts of the site keep about a person, where this installation has them."""
    z = s.z
    if hasattr(models, "Concern"):
        db.session.add(models.Concern(subject_type="post", post_id=s.ride.id, category="other", reporter_id=s.helper.id,
                                      body=f"{NAME} gave me the wrong address"))
    if hasattr(models, "Bar"):
        db.session.add(models.Bar(person_id=z.id, reason=f"{NAME} shouted at a driver ({PHONE})", created_by_id=s.coord.id))
    if hasattr(models, "Block"):
        db.session.add(models.Block(blocker_id=s.helper.id, blocked_id=z.id, context=s.ride.title))
    if hasattr(models, "Invitation"):
        db.session.add(models.Invitation(email=EMAIL, nonce="n1", invited_by_id=s.coord.id, used_by_id=z.id,
                                         used_at=datetime.utcnow()))
    if hasattr(models, "VettingCheck"):
        db.session.add(models.VettingCheck(user_id=z.id, kind="licence", checked_on=date.today(), checked_by_id=s.coord.id,
                                           expires_on=date.today() + timedelta(days=300)))


def needles() -> list[str]:
    """What names Zebulon anywhere: the full name, the email, the phone (as typed and as digits)."""
    digits = "".join(c for c in PHONE if c.isdigit())
    return [NAME.lower(), EMAIL.lower(), PHONE, digits]


def name_words() -> list[str]:
    """Each word of the name on its own: looked for in Zebulon's own rows (a first name alone in
    other people's text is left, as it may be an everyday word: "Will", "May")."""
    return [w.lower() for w in NAME.split()]


def own_rows(user_id: int) -> dict[str, set]:
    """The rows that are Zebulon's own, by table: named here table by table, not taken from the
    code under test."""
    t = db.metadata.tables
    posts = select(t["posts"].c.id).where(t["posts"].c.owner_id == user_id)
    series = select(t["session_series"].c.id).where(t["session_series"].c.host_id == user_id)
    mine = {
        "users": t["users"].c.id == user_id,
        "posts": t["posts"].c.owner_id == user_id,
        "post_terms": t["post_terms"].c.post_id.in_(posts),
        "case_notes": t["case_notes"].c.resident_id == user_id,
        "session_feedback": t["session_feedback"].c.user_id == user_id,
        "session_series": t["session_series"].c.host_id == user_id,
        "group_sessions": t["group_sessions"].c.series_id.in_(series),
        "fund_pledges": t["fund_pledges"].c.member_id == user_id,
        "fund_requests": t["fund_requests"].c.requester_id == user_id,
        "messages": t["messages"].c.author_id == user_id,
        "outbox_emails": t["outbox_emails"].c.to_addr == EMAIL,
    }
    rows = {}
    for name, where in mine.items():
        table = t[name]
        rows[name] = {tuple(r) for r in db.session.execute(select(*table.primary_key.columns).where(where))}
    return rows


def _as_text(value) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def scan_everything(user_id: int, words: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(table, column, value) for every value of every column of every table that holds one of
    `words` (default: Zebulon's full name, email and phone), case-insensitively; and, in the rows
    that are `user_id`'s own (Zebulon's), also each word of the name on its own."""
    words = [w.lower() for w in (words or needles())]
    own = own_rows(user_id)
    found = []
    for table in db.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        for row in db.session.execute(select(table)).mappings():
            mine = tuple(row[k.name] for k in keys) in own.get(table.name, ())
            for column, value in row.items():
                text = _as_text(value).lower()
                for word in words + (name_words() if mine else []):
                    if word in text:
                        found.append((table.name, column, text[:120]))
    return found


def session_of(s) -> GroupSession:
    return db.session.get(GroupSession, s.session.id)


def match_of(match_id: int) -> Match:
    db.session.expire_all()
    return db.session.get(Match, match_id)
