"""A believable St. Croix Valley community for trying the site (`flask seed-demo`).

Idempotent: a second run changes nothing and prints the same logins. Passwords are random per
install (there is no default password) and kept in instance/demo-logins.txt.
"""
import random
import secrets
from datetime import datetime, time, timedelta
from pathlib import Path

from flask import current_app

from app.extensions import db
from app.models import Post, User
from app.services import accounts, geo
from app.services.demo_texts import NEEDS, OFFERS, SPANISH_SPEAKERS, details_for, post_title
from app.services.posts import PostInput, _apply
from app.timeutil import community_zone, utc_to_local, utcnow

DEMO_DOMAIN = "demo.mutualaid.example"
TOWNS = [("Stillwater", "55082"), ("Hudson", "54016"), ("River Falls", "54022"), ("New Richmond", "54017"),
         ("Bayport", "55003"), ("Lake Elmo", "55042"), ("Somerset", "54025"), ("Osceola", "54020"),
         ("Prescott", "54021"), ("Baldwin", "54002"), ("Afton", "55001"), ("Roberts", "54023")]
FIRST = ["Ana", "Ben", "Carla", "Dev", "Erin", "Femi", "Grace", "Hector", "Ines", "Jon", "Kay", "Luis", "Maya", "Nate",
         "Olga", "Pat", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vic", "Wes", "Xena", "Yusuf", "Zoe", "Abe", "Bea",
         "Cal", "Dina", "Eli", "Fay", "Gus", "Hana", "Ike", "Jade", "Kurt", "Lena", "Moe", "Nia"]
LAST = ["Lindqvist", "Olson", "Nguyen", "Hanson", "Garcia", "Berg", "Johnson", "Yang", "Peterson", "Moua", "Larson",
        "Schmidt", "Anderson", "Vang", "Nelson", "Carlson"]
def _logins_file() -> Path:
    return Path(current_app.instance_path) / "demo-logins.txt"


def _read_logins() -> list[tuple[str, str, str]]:
    path = _logins_file()
    if not path.exists():
        return []
    return [tuple(line.split("\t")) for line in path.read_text().splitlines() if line.count("\t") == 2]


def seed(seed_value: int = 7) -> tuple[list[tuple[str, str, str]], bool]:
    """Create the demo community unless it exists. Returns (logins, created)."""
    marker = f"coordinator@{DEMO_DOMAIN}"
    if accounts.find_by_email(marker) is not None:
        return _read_logins(), False
    rng = random.Random(seed_value)
    logins = []

    def person(name, email, role, town_zip, password=None, created_by=None):
        joined = utcnow() - timedelta(days=rng.randint(5, 200))
        # Demo accounts are confirmed, as if each had followed the link in their welcome email.
        user = User(name=name, email=email, role=role, created_at=joined, email_confirmed_at=joined,
                    created_by_id=created_by.id if created_by else None)
        # Members who are not demo logins get an unguessable password nobody knows.
        user.password_hash = accounts.hash_password(password or secrets.token_urlsafe(24)) if email else None
        place = geo.locate(town_zip)
        user.zip_code, user.town, user.state, user.lat, user.lon = place.zip_code, place.town, place.state, place.lat, place.lon
        db.session.add(user)
        return user

    # Three coordinators, so that a request one of them files for a resident can still get the
    # two approvals of two others; a resident who can log in, to see the site from their side.
    for role, email, zip_code, name in (("admin", f"admin@{DEMO_DOMAIN}", "55082", "Avery Admin"),
                                        ("coordinator", marker, "54016", "Casey Lindgren"),
                                        ("coordinator", f"coordinator2@{DEMO_DOMAIN}", "55082", "Robin Okafor"),
                                        ("member", f"neighbor@{DEMO_DOMAIN}", "54022", "Morgan Ellis"),
                                        ("member", f"vecina@{DEMO_DOMAIN}", "54016", "Lucía Hernández")):
        password = secrets.token_urlsafe(9)
        user = person(name, email, role, zip_code, password)
        if email.startswith("vecina@"):
            user.language = "es"  # a neighbor who uses the site in Spanish
        logins.append((role, email, password))
    db.session.flush()
    coordinator = accounts.find_by_email(marker)
    password = secrets.token_urlsafe(9)
    person("Sky Halvorsen", f"resident@{DEMO_DOMAIN}", "resident", "55082", password, created_by=coordinator)
    logins.append(("resident", f"resident@{DEMO_DOMAIN}", password))
    members = []
    for i in range(38):
        town, zip_code = TOWNS[i % len(TOWNS)]
        name = f"{FIRST[i]} {LAST[i % len(LAST)]}"
        member = person(name, f"{FIRST[i].lower()}.{LAST[i % len(LAST)].lower()}@{DEMO_DOMAIN}", "member", zip_code)
        if FIRST[i] in SPANISH_SPEAKERS:
            member.language = "es"  # Spanish-speaking neighbors, who post in Spanish
        members.append(member)
    # A resident registered by a coordinator, without email: reached through a contact person.
    resident = User(name="Jordan Reyes", email=None, role="resident", created_by_id=coordinator.id,
                    email_confirmed_at=utcnow(), contact_method="person")
    db.session.add(resident)
    place = geo.locate("55082")
    resident.zip_code, resident.town, resident.state, resident.lat, resident.lon = place.zip_code, place.town, place.state, place.lat, place.lon
    db.session.flush()
    login_resident = accounts.find_by_email(f"resident@{DEMO_DOMAIN}")

    zone = community_zone()
    today = utc_to_local(utcnow(), zone).date()
    lifetime = current_app.config["POST_LIFETIME_DAYS"]

    def add(owner, data, created_by=None, age_days=0):
        post = Post(owner_id=owner.id, created_by_id=(created_by or owner).id,
                    created_at=utcnow() - timedelta(days=age_days, hours=rng.randint(0, 20)),
                    expires_at=utcnow() + timedelta(days=lifetime - age_days))
        _apply(post, data)
        db.session.add(post)

    def window(days_ahead, hour, hours):
        day = today + timedelta(days=days_ahead)
        start = datetime.combine(day, time(hour, 0))
        return start, start + timedelta(hours=hours)

    count = 0
    for category, items in OFFERS.items():
        for index in range(len(items)):
            for _ in range(2):
                owner = rng.choice(members)
                title = post_title(owner, "offer", category, index)
                weekly = [] if rng.random() < 0.2 else [
                    (d, h * 60, (h + rng.choice([2, 3, 4])) * 60) for d, h in
                    zip(rng.sample(range(7), rng.choice([1, 2, 3])), rng.choices([8, 9, 13, 17, 18], k=3))]
                capacity = {"rides": rng.choice([1, 2, 3]), "food": rng.choice([4, 10, 20]), "skills": rng.choice([1, 8, 12]),
                            "peer_support": rng.choice([6, 10, 12]),
                            "household_items": rng.choice([1, 2, 5])}[category]
                add(owner, PostInput(kind="offer", category=category, title=title, details=details_for(owner, "offer", category),
                                     zip_code=owner.zip_code, quantity=capacity,
                                     radius_miles=float(rng.choice([5, 10, 15, 25])),
                                     offer_format="group" if category in ("skills", "peer_support") and capacity > 4 else
                                     ("individual" if category in ("skills", "peer_support") else None),
                                     weekly=weekly), age_days=rng.randint(0, 20))
                count += 1
    needers = members + [resident, login_resident]
    while count < 80:
        category = rng.choice(list(NEEDS))
        index = rng.randrange(len(NEEDS[category]))
        owner = rng.choice(needers)
        title, extra = post_title(owner, "need", category, index)
        flexible = rng.random() < 0.3
        windows = [] if flexible else [window(rng.randint(1, 12), rng.choice([9, 10, 13, 15, 17]), rng.choice([2, 3]))]
        quantity = rng.choice([1, 2, 3]) if category == "food" else 1
        appointment = windows[0][0] + timedelta(minutes=30) if category == "rides" and windows else None
        add(owner, PostInput(kind="need", category=category, title=title, details=details_for(owner, "need", category),
                             zip_code=owner.zip_code, quantity=quantity, urgency=rng.choice([0, 0, 1, 1, 2, 3]),
                             duration_min=rng.choice([60, 60, 90, 120]), flexible=flexible, windows=windows,
                             destination_kind=extra if category == "rides" else None,
                             appointment_at=appointment, return_trip=category == "rides" and rng.random() < 0.5,
                             pickup_area="Near downtown" if category == "rides" else None),
            created_by=coordinator if owner is resident else None, age_days=rng.randint(0, 14))
        count += 1
    from app.services import demo_repeat

    demo_repeat.seed(add, today, resident, login_resident, members[1], coordinator)
    db.session.commit()
    # The engine proposes over the whole community, as the nightly `flask match run` does; the
    # coordinator then has a queue to review, and two approvals show the rest of the flow.
    from app.services import matches
    from app.services import proposals
    from app.services import match_queue

    proposals.run_all()
    for match in match_queue.queue()[:2]:
        if coordinator.id not in (match.match.need.owner_id, match.match.offer.owner_id):
            matches.approve(coordinator, match.match.id, lambda m: f"{current_app.config['BASE_URL']}/matches/{m.id}")
    _seed_fund(rng, coordinator, accounts.find_by_email(f"coordinator2@{DEMO_DOMAIN}"),
               accounts.find_by_email(f"admin@{DEMO_DOMAIN}"), members, resident)
    from app.services import demo_groups  # a weekly peer group and a monthly workshop, with members in them

    demo_groups.seed(members, accounts.find_by_email(f"neighbor@{DEMO_DOMAIN}"), login_resident)
    analyze()
    _logins_file().write_text("".join(f"{r}\t{e}\t{p}\n" for r, e, p in logins))
    _logins_file().chmod(0o600)
    return logins, True


def _seed_fund(rng, coordinator: User, second: User, admin: User, members: list[User], resident: User) -> None:
    """Pledges, money received, one paid grant and one waiting for its second approval."""
    from app.services import fund

    today = utc_to_local(utcnow(), community_zone()).date()
    for member in rng.sample(members, 6):
        pledge = fund.pledge(member, str(rng.choice([20, 25, 50, 100])), rng.choice(["one_off", "monthly"]))
        fund.record_receipt(coordinator, f"{pledge.amount_cents // 100}", rng.choice(["cash", "check", "online"]),
                            today - timedelta(days=rng.randint(3, 40)), pledge.id)
    fund.record_receipt(coordinator, "500", "check", today - timedelta(days=20), None, "Church collection")
    # Filed by one coordinator; decided by two others.
    paid = fund.create_request(coordinator, resident, "300", "rent", "Stillwater Property Management", "December rent")
    fund.approve(second, paid.id)
    fund.approve(admin, paid.id)
    fund.record_payment(coordinator, paid.id, today - timedelta(days=2), "check", "chk 1042")
    waiting = fund.create_request(coordinator, resident, "85.40", "utilities", "Xcel Energy", "Past-due electric bill")
    fund.approve(admin, waiting.id)


def analyze() -> None:
    """Fresh planner statistics after the bulk load (app/services/planner.py)."""
    from app.services import planner

    planner.after_bulk_load()
