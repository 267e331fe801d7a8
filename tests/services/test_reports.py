"""The dashboard's and the funder report's figures, recomputed here from the raw rows in plain
Python (not through app/services/reports.py) on a built data set, and compared figure by figure."""
import csv
import io
import math
import random
from collections import defaultdict
from datetime import time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (FundRequest, GroupSession, LedgerEntry, LedgerTransaction, Match, Post, SessionSeat,
                        SessionSeries)
from app.services import FieldError, NotAllowed, fund, reports
from app.services.reports import Period
from app.timeutil import local_to_utc, local_today, utc_to_local, utcnow

ZIPS = ("54016", "54022", "55082", "54017")  # Hudson, River Falls, Stillwater, New Richmond
CATS = ("rides", "food", "skills", "peer_support", "household_items")


def raw_post(owner, kind, category, created_at, zip_code="54016", status="open", closed_at=None, title="Help"):
    from app.services import geo

    place = geo.locate(zip_code)
    post = Post(kind=kind, owner_id=owner.id, created_by_id=owner.id, category=category, title=title, status=status,
                zip_code=place.zip_code, town=place.town, state=place.state, lat=place.lat, lon=place.lon,
                cell_lat=round(place.lat, 2), cell_lon=round(place.lon, 2), quantity=1, created_at=created_at,
                expires_at=created_at + timedelta(days=30), closed_at=closed_at)
    db.session.add(post)
    db.session.flush()
    return post


def raw_match(need, offer, status, decided_at=None, closed_at=None):
    db.session.add(Match(need_id=need.id, offer_id=offer.id, status=status, decided_at=decided_at, closed_at=closed_at,
                         created_at=need.created_at))


def build_world(make_user, seed=17, needs=80):
    """Needs spread over 60 days around a 30-day period (some exactly on its edges), each with a
    random history of matches; group sessions with seats; fund receipts, requests and payments."""
    rng = random.Random(seed)
    today = local_today()
    p = Period(today - timedelta(days=35), today - timedelta(days=6))
    coord, coord2 = make_user("coordinator"), make_user("coordinator")
    owners = [make_user("resident") for _ in range(6)] + [make_user() for _ in range(4)]
    helper = make_user()
    start = p.utc_start - timedelta(days=15)
    offers = {c: raw_post(helper, "offer", c, start - timedelta(days=1)) for c in CATS}
    edges = [p.utc_start, p.utc_start - timedelta(seconds=1), p.utc_end - timedelta(seconds=1), p.utc_end]
    for i in range(needs):
        created = edges[i] if i < len(edges) else start + timedelta(seconds=rng.randrange(60 * 86400))
        category = rng.choice(CATS)
        roll = rng.random()
        status = "withdrawn" if roll < 0.12 else "fulfilled" if roll < 0.2 else "expired" if roll < 0.3 else "open"
        closed = created + timedelta(hours=rng.randrange(1, 300)) if status != "open" else None
        need = raw_post(rng.choice(owners), "need", category, created, rng.choice(ZIPS), status, closed)
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            state = rng.choice(("proposed", "approved", "accepted", "completed", "completed", "rejected", "declined",
                                "cancelled", "no_show"))
            decided = created + timedelta(minutes=rng.randrange(10, 20000))
            was_approved = state not in ("proposed",) and not (state == "cancelled" and rng.random() < 0.5)
            raw_match(need, offers[category], state, decided if was_approved else None,
                      decided + timedelta(minutes=rng.randrange(60, 9000)) if state in
                      ("completed", "no_show", "rejected", "declined", "cancelled") else None)
    # A money need in the period: never counted with the posts.
    raw_post(owners[0], "need", "emergency_funds", p.utc_start + timedelta(days=2))
    # Group sessions: held in the period (some cancelled), before it, and still to come.
    offer = offers["peer_support"]
    series = SessionSeries(offer_id=offer.id, host_id=helper.id, created_by_id=helper.id, first_start_local=start,
                           duration_min=60, places=10)
    db.session.add(series)
    db.session.flush()
    for k in range(14):
        at = p.utc_start + timedelta(days=3 * k - 5, hours=18)
        if at > utcnow():
            at = utcnow() + timedelta(days=1)
        s = GroupSession(series_id=series.id, offer_id=offer.id, starts_at=at, ends_at=at + timedelta(hours=1),
                         original_start=at, places=10, status="cancelled" if k % 5 == 4 else "scheduled")
        db.session.add(s)
        db.session.flush()
        for person in owners[: rng.randrange(0, 8)]:
            db.session.add(SessionSeat(session_id=s.id, user_id=person.id, status=rng.choice(("joined", "joined", "left", "waiting")),
                                       attended=rng.choice((True, False, None))))
    db.session.commit()
    # The fund, through its services: receipts inside and outside the period, paid, approved and pending requests.
    fund.record_receipt(coord, "900", "check", p.start, None)
    fund.record_receipt(coord, "250", "cash", p.start + timedelta(days=9), None)
    fund.record_receipt(coord, "40", "cash", p.start - timedelta(days=1), None)
    for person, amount, pay_on in ((owners[0], "120", p.start + timedelta(days=3)), (owners[1], "75", p.end),
                                   (owners[0], "60", p.end + timedelta(days=1)), (owners[2], "30", None), (owners[3], "20", False)):
        req = fund.create_request(person, person, amount, "rent", "Valley Apartments")
        if pay_on is not False:
            fund.approve(coord, req.id)
            fund.approve(coord2, req.id)
        if pay_on:
            fund.record_payment(coord, req.id, pay_on, "check", "chk")
    return SimpleNamespace(period=p, coord=coord, member=helper)


# The figures, from the raw rows ---------------------------------------------------------------

def _nearest_rank(values, fraction):
    values = sorted(values)
    return values[max(1, math.ceil(fraction * len(values))) - 1] if values else None


def expected_rows(p: Period) -> list[tuple]:
    lo, hi = local_to_utc(p.start, time(0)), local_to_utc(p.end + timedelta(days=1), time(0))
    posts = db.session.scalars(select(Post)).all()
    matches = defaultdict(list)
    for m in db.session.scalars(select(Match)).all():
        matches[m.need_id].append(m)
    mondays = []
    monday = p.start - timedelta(days=p.start.weekday())
    while monday <= p.end:
        mondays.append(monday)
        monday += timedelta(days=7)
    names = ("posted", "met", "under_way", "unmet", "withdrawn")
    tally = {"all": defaultdict(int)}
    by_cat = {c: defaultdict(int) for c in CATS}
    by_town, by_week = defaultdict(lambda: defaultdict(int)), {m: defaultdict(int) for m in mondays}
    approval, done, completed, no_show = [], [], 0, 0
    for post in posts:
        if post.kind != "need" or post.category == "emergency_funds" or not (lo <= post.created_at < hi):
            continue
        ms = matches[post.id]
        done_times = [m.closed_at for m in ms if m.status == "completed"]
        if done_times or post.status == "fulfilled":
            outcome = "met"
            done.append(((min(done_times) if done_times else post.closed_at) - post.created_at).total_seconds() / 3600)
        elif post.status == "withdrawn":
            outcome = "withdrawn"
        elif any(m.status in ("approved", "accepted") for m in ms):
            outcome = "under_way"
        else:
            outcome = "unmet"
        approved = [m.decided_at for m in ms if m.decided_at is not None and m.status != "rejected"]
        if approved:
            approval.append((min(approved) - post.created_at).total_seconds() / 3600)
        completed += sum(m.status == "completed" for m in ms)
        no_show += sum(m.status == "no_show" for m in ms)
        local_day = utc_to_local(post.created_at).date()
        for t in (tally["all"], by_cat[post.category], by_town[post.town],
                  by_week[local_day - timedelta(days=local_day.weekday())]):
            t[outcome] += 1
            t["posted"] += 1

    def rate(a, b):
        return f"{a / b:.4f}" if b else ""

    def counts(section, group, t):
        return [(section, group, n, str(t[n])) for n in names] + \
            [(section, group, "fill_rate", rate(t["met"], t["posted"] - t["withdrawn"]))]

    def hours(v):
        return "" if v is None else f"{v:.1f}"

    rows = [("period", "", "from", p.start.isoformat()), ("period", "", "to", p.end.isoformat())]
    rows += counts("needs", "all", tally["all"])
    for name, values in (("time_to_approved_match_hours", approval), ("time_to_done_hours", done)):
        rows += [(name, "all", "needs", str(len(values))), (name, "all", "median", hours(_nearest_rank(values, .5))),
                 (name, "all", "p90", hours(_nearest_rank(values, .9)))]
    rows += [("matches", "all", "completed", str(completed)), ("matches", "all", "no_show", str(no_show)),
             ("matches", "all", "no_show_rate", rate(no_show, completed + no_show))]
    for c in CATS:
        rows += counts("by_category", c, by_cat[c])
    for town in sorted(by_town, key=lambda t: (-by_town[t]["posted"], t)):
        rows += counts("by_town", town, by_town[town])
    for m in mondays:
        rows += counts("by_week", m.isoformat(), by_week[m])
    # Group sessions held: not cancelled, started in the period and before now.
    seats = defaultdict(list)
    for seat in db.session.scalars(select(SessionSeat)).all():
        seats[seat.session_id].append(seat)
    weekly = {m: [0, 0, 0] for m in mondays}
    for s in db.session.scalars(select(GroupSession)).all():
        if s.status == "scheduled" and lo <= s.starts_at < min(hi, utcnow()):
            d = utc_to_local(s.starts_at).date()
            w = weekly[d - timedelta(days=d.weekday())]
            w[0] += 1
            w[1] += sum(x.status == "joined" for x in seats[s.id])
            w[2] += sum(x.status == "joined" and x.attended is True for x in seats[s.id])
    rows += [("groups", "all", key, str(sum(w[i] for w in weekly.values())))
             for i, key in enumerate(("sessions_held", "places_taken", "attended"))]
    for m in mondays:
        rows += [("groups_by_week", m.isoformat(), key, str(weekly[m][i]))
                 for i, key in enumerate(("sessions_held", "places_taken", "attended"))]
    # The fund, from the ledger's cash entries and the requests.
    money = {m: [0, 0] for m in mondays}
    txs = {t.id: t for t in db.session.scalars(select(LedgerTransaction)).all()}
    for e in db.session.scalars(select(LedgerEntry)).all():
        tx = txs[e.transaction_id]
        if e.account == "cash" and p.start <= tx.occurred_on <= p.end:
            w = money[tx.occurred_on - timedelta(days=tx.occurred_on.weekday())]
            if tx.kind == "payment":
                w[1] -= e.amount_cents
            else:
                w[0] += e.amount_cents
    requests = db.session.scalars(select(FundRequest)).all()

    def dollars(c):
        return f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}"

    def waiting(status):
        chosen = [r.amount_cents for r in requests if r.status == status]
        return str(len(chosen)), dollars(sum(chosen))

    rows += [("fund", "all", "money_in", dollars(sum(w[0] for w in money.values()))),
             ("fund", "all", "money_out", dollars(sum(w[1] for w in money.values()))),
             ("fund", "all", "households_helped",
              str(len({r.requester_id for r in requests if r.status == "paid" and p.start <= r.paid_on <= p.end}))),
             ("fund", "all", "pending_requests", waiting("pending")[0]), ("fund", "all", "pending_amount", waiting("pending")[1]),
             ("fund", "all", "approved_unpaid_requests", waiting("approved")[0]),
             ("fund", "all", "approved_unpaid_amount", waiting("approved")[1])]
    for m in mondays:
        rows += [("fund_by_week", m.isoformat(), "money_in", dollars(money[m][0])),
                 ("fund_by_week", m.isoformat(), "money_out", dollars(money[m][1]))]
    return rows


@pytest.fixture
def world(make_user):
    return build_world(make_user)


def test_the_funder_csv_holds_the_figures_recomputed_from_the_raw_rows(world):
    body = reports.funder_csv(world.coord, world.period)
    parsed = [tuple(r) for r in csv.reader(io.StringIO(body))]
    assert parsed[0] == ("section", "group", "measure", "value")
    expected = expected_rows(world.period)
    assert parsed[1:] == expected
    figures = {(s, g, m): v for s, g, m, v in expected}
    # The data set reaches every case: edges of the period, every outcome, timings, no-shows, groups, money.
    assert all(int(figures[("needs", "all", k)]) > 0 for k in ("posted", "met", "under_way", "unmet", "withdrawn"))
    assert int(figures[("time_to_done_hours", "all", "needs")]) > 5 and int(figures[("matches", "all", "no_show")]) > 0
    assert int(figures[("groups", "all", "sessions_held")]) > 3 and int(figures[("groups", "all", "attended")]) > 0
    assert figures[("fund", "all", "money_in")] == "1150.00" and figures[("fund", "all", "money_out")] == "195.00"
    assert figures[("fund", "all", "households_helped")] == "2" and figures[("fund", "all", "pending_requests")] == "1"
    assert len({g for s, g, _m, _v in expected if s == "by_town"}) == len(ZIPS)


def test_the_period_edges_are_local_midnights(world):
    d = reports.dashboard(world.coord, world.period)
    # Of the four posts on the edges, the one at the first midnight and the one a second before the next count.
    edge = [p for p in db.session.scalars(select(Post).where(Post.kind == "need")).all()
            if abs((p.created_at - world.period.utc_start).total_seconds()) <= 1
            or abs((p.created_at - world.period.utc_end).total_seconds()) <= 1]
    assert len(edge) == 4
    assert world.period.utc_start == local_to_utc(world.period.start, time(0))
    assert d.totals.posted == sum(c.posted for c in d.by_week.values()) == sum(c.posted for c in d.by_category.values())


def test_only_coordinators_see_reports_and_bad_periods_are_refused(world, make_user):
    with pytest.raises(NotAllowed):
        reports.dashboard(world.member, world.period)
    with pytest.raises(FieldError) as err:
        reports.period(world.period.end, world.period.start)
    assert err.value.field == "end"
    with pytest.raises(FieldError):
        reports.period(world.period.start - timedelta(days=400), world.period.end)
    p = reports.period(None, None)
    assert p.end == local_today() and (p.end - p.start).days == 29


def test_the_dashboard_counts_in_the_database_with_a_fixed_number_of_queries(world, count_queries):
    with count_queries() as q:
        reports.dashboard(world.coord, world.period)
    few = q.count
    for k in range(200):
        raw_post(world.member, "need", "food", world.period.utc_start + timedelta(minutes=k + 5))
    db.session.commit()
    with count_queries() as q:
        reports.dashboard(world.coord, world.period)
    assert q.count == few <= 12
