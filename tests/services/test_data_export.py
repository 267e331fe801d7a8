"""Download my data: everything the site holds about the member, the other people by first name
only, and none of what would endanger others (reports, blocks, bars, vetting, case notes)."""
import json

import pytest
from sqlalchemy import select

from app import models
from app.extensions import db
from app.models import AuditEntry
from app.services import NotAllowed, data_export
from tests.services.data_rights_helpers import EMAIL, NAME, PHONE, everything

KEYS = {"format", "exported_at", "profile", "posts", "matches", "digest_settings", "fund", "group_sessions", "texts",
        "contact_views", "emails", "calendar_feed"}


@pytest.fixture
def world(make_user, make_post):
    return everything(make_user, make_post)


@pytest.fixture
def doc(world):
    return json.loads(data_export.to_json(data_export.export_for(world.z, world.z)))


def test_the_document_has_every_part_and_only_those(doc):
    assert set(doc) == KEYS | {"messages"}
    assert doc["format"] == "mutual-aid-exchange/my-data/1"
    assert set(doc["fund"]) == {"pledges", "receipts", "requests"}
    assert set(doc["group_sessions"]) == {"seats", "series", "hosting", "feedback"}


def test_it_holds_the_profile_posts_with_their_times_and_the_fund(world, doc):
    assert (doc["profile"]["name"], doc["profile"]["email"], doc["profile"]["phone"]) == (NAME, EMAIL, PHONE)
    posts = {p["title"]: p for p in doc["posts"]}
    assert {"Ride to the clinic", "Groceries", "Spare chairs", "Budgeting workshop", "Ride to the pharmacy"} <= set(posts)
    ride = posts["Ride to the clinic"]
    assert (ride["street_address"], ride["pickup_area"]) == ("12 Birch Lane", "Back door by the garden")
    assert len(posts["Groceries"]["occurrences"]) == 4 and posts["Groceries"]["windows"]
    assert [p["amount_cents"] for p in doc["fund"]["pledges"]] == [2500]
    assert sorted(r["amount_cents"] for r in doc["fund"]["receipts"]) == [2500, 2500]
    assert {(r["purpose"], r["status"]) for r in doc["fund"]["requests"]} == {("rent", "paid"), ("utilities", "declined")}
    assert doc["digest_settings"]["frequency"] == "weekly" and doc["calendar_feed"] is True
    assert any(e["kind"] == "password_reset" for e in doc["emails"])
    hosted = doc["group_sessions"]["hosting"]
    assert len(hosted) == 1 and "kitchen" in hosted[0]["place_details"]
    assert [f["body"] for f in doc["group_sessions"]["feedback"]] == [f"{NAME} enjoyed it"]
    assert [s["my_status"] for s in doc["group_sessions"]["seats"]] == ["joined"]


def test_matches_are_their_side_with_the_other_person_by_first_name_once_introduced(world, doc):
    by_id = {m["id"]: m for m in doc["matches"]}
    ride = by_id[world.ride_match.id]
    assert (ride["my_side"], ride["other_first_name"], ride["status"]) == ("need", "Hal", "approved")
    waiting = by_id[world.volunteered.id]  # "I can help" not yet approved: Ada is not introduced
    assert (waiting["my_side"], waiting["other_first_name"], waiting["status"]) == ("offer", None, "proposed")
    assert waiting["my_note"] == f"{NAME} here, I have chairs"
    assert [(m["from"], m["body"][:5]) for m in doc["messages"]] == [("Hal", "Hello"), ("me", "Thank")]


def test_proposals_that_never_reached_them_are_left_out(world, make_user, make_post):
    """A proposal no coordinator approved was never shown to the member: not one a coordinator
    rejected, nor one a block withdrew (which would tell them someone blocked them)."""
    from app.models import Match
    from app.services import blocks

    bo = make_user(name="Bo Blocker", email="bo@example.org")
    bo_offer = make_post(bo, kind="offer", title="Rides on Sundays")
    pending = Match(need_id=world.done_need.id, offer_id=bo_offer.id, status="proposed", source="engine")
    rejected = Match(need_id=world.ride.id, offer_id=bo_offer.id, status="rejected", source="engine")
    db.session.add_all([pending, rejected])
    db.session.commit()
    assert blocks.withdraw_pending(bo.id, [world.z.id]) >= 1
    db.session.commit()
    assert db.session.get(Match, pending.id).status == "cancelled"
    doc = json.loads(data_export.to_json(data_export.export_for(world.z, world.z)))
    ids = {m["id"] for m in doc["matches"]}
    assert pending.id not in ids and rejected.id not in ids
    assert "Rides on Sundays" not in json.dumps(doc) and "Bo" not in {m["other_first_name"] for m in doc["matches"]}
    # What did reach them stays: the approved ride, the done one, their own "I can help" still waiting.
    assert {world.ride_match.id, world.volunteered.id} <= ids


def test_while_a_report_pauses_a_match_the_other_sides_messages_are_left_out(world):
    """The thread shows nothing of the other side while paused; nor does the export."""
    concern = models.Concern(subject_type="match", match_id=world.ride_match.id, category="safety",
                             body="Something felt wrong", reporter_id=world.helper.id, holding=True)
    db.session.add(concern)
    db.session.commit()
    doc = json.loads(data_export.to_json(data_export.export_for(world.z, world.z)))
    assert [(m["from"], m["body"][:5]) for m in doc["messages"]] == [("me", "Thank")]
    concern.holding = False
    db.session.commit()
    doc = json.loads(data_export.to_json(data_export.export_for(world.z, world.z)))
    assert [(m["from"], m["body"][:5]) for m in doc["messages"]] == [("Hal", "Hello"), ("me", "Thank")]


def test_who_saw_their_contact_details_by_first_name_or_as_coordinator(world, doc):
    seen = [(v["where"], v["viewer"]) for v in doc["contact_views"]]
    assert ("match", "Hal") in seen and ("match", "coordinator") in seen
    assert ("group_session", "Hana") in seen
    # Zebulon's own look at Hal's card is not a view of Zebulon's details.
    assert len([s for s in seen if s[0] == "match"]) == 2


def test_nothing_of_other_people_beyond_first_names_and_none_of_the_excluded_records(world, doc):
    text = json.dumps(doc, ensure_ascii=False)
    for other in ("Helper", "hal@example.org", "Asker", "ada@example.org", "Host", "hana@example.org", "Wes",
                  "Coord", "cora@example.org", "Cora", "Rides around town", "Need two chairs", "Birch Lane Properties"):
        assert other not in text, other
    for excluded in ("moved in", "wrong address", "shouted", "licence", "helped last month", "is behind on rent"):
        assert excluded not in text, excluded  # case notes, concerns, bars, vetting, decline reasons, a coordinator's note
    for key in ("case_notes", "concerns", "bars", "blocks", "vetting", "reports"):
        assert key not in doc


def test_only_the_member_or_a_coordinator_for_a_resident_may_download(world, make_user):
    with pytest.raises(NotAllowed):
        data_export.export_for(world.helper, world.z)
    with pytest.raises(NotAllowed):
        data_export.export_for(world.coord, world.helper)  # a member, not a resident
    body, filename = data_export.download(world.coord, world.z)
    assert json.loads(body)["profile"]["email"] == EMAIL and filename.startswith("my-data-")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "data_export"))
    assert (entry.actor_id, entry.subject_id, entry.details) == (world.coord.id, world.z.id, {})
    data_export.download(world.z, world.z)  # one's own: nothing to audit
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "data_export")).all()) == 1
