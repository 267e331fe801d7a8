"""Who sees what about a match: the rules for access, contact cards and exact places.

Access follows the role someone has now: a person is involved in a match because they own one of
its two posts; coordinators see matches because they are coordinators today. Having posted for a
resident once grants nothing after a change of role. Contact cards read the same for everyone
(first name, one way to reach them, the place), so a card never tells a helper who is a resident.
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Match, Post, User
from app.models.matches import HOLDING
from app.services import audit, holds
from app.services.retention import address_cutoff


def involved(user: User, match: Match) -> bool:
    """The two matched people (the owners of the need and of the offer)."""
    return user.is_authenticated and user.id in (match.need.owner_id, match.offer.owner_id)


def can_view(user: User, match: Match) -> bool:
    return user.is_authenticated and (user.is_coordinator or involved(user, match))


def shows_contact(user: User, match: Match) -> bool:
    """Contact details and the exact place go to the two people only after approval, and to coordinators;
    a match a safety report pauses shows the two people nothing until a coordinator acts; a match closed
    longer ago than RETAIN_ADDRESS_DAYS shows nobody a card any more (retention)."""
    if contact_expired(match):
        return False
    if user.is_coordinator:
        return True
    return involved(user, match) and match.status in HOLDING and not holds.match_paused(match.id)


def contact_expired(match: Match) -> bool:
    """The match closed before the retention cutoff: its contact cards are not shown any more."""
    return match.closed_at is not None and match.closed_at < address_cutoff()


def answers_for_others(user: User, person: User) -> bool:
    """A coordinator answers for a member who cannot log in (a resident registered without email)."""
    return user.is_coordinator and person.acted_for


def side_of(user: User, match: Match) -> str | None:
    """'need' or 'offer': which side this user answers for (a coordinator answers for someone who cannot log in)."""
    for side, post in (("need", match.need), ("offer", match.offer)):
        if post.owner_id == user.id:
            return side
    for side, post in (("need", match.need), ("offer", match.offer)):
        if answers_for_others(user, db.session.get(User, post.owner_id)):
            return side
    return None


@dataclass
class ContactCard:
    """What one matched person learns about the other after approval: the same fields for everyone."""

    first_name: str
    how: str  # "Email", "Phone" or "Contact person" (lazy: shown in the reader's language)
    reach: str | None  # the address, the number, or "Kim, 651-555-0101"; None if they gave no way
    place: str
    when: datetime | None
    # Only on a helper's card as a resident sees it: the helper holds every check the rules ask
    # for this request ("Checked by the residence"); never the checks themselves.
    checked: bool = False


CONTACT_LABELS = {"email": _l("Email"), "phone": _l("Phone"), "person": _l("Contact person")}


def reach_of(person: User) -> tuple[str, str | None]:
    """How this person asked to be reached: (label, value). Falls back to what they have."""
    method = person.contact_method or "email"
    if method == "person" and person.contact_name and person.contact_detail:
        return CONTACT_LABELS["person"], f"{person.contact_name}, {person.contact_detail}"
    if method == "person" and person.acted_for:
        # No contact named: the coordinator acting for them today (never one who no longer is).
        coordinator = acting_coordinator(person)
        if coordinator is not None:
            return CONTACT_LABELS["person"], f"{coordinator.first_name}, {coordinator.email}"
    if method == "phone" and person.phone:
        return CONTACT_LABELS["phone"], person.phone
    if person.email:
        return CONTACT_LABELS["email"], person.email
    if person.phone:
        return CONTACT_LABELS["phone"], person.phone
    return CONTACT_LABELS[method if method in CONTACT_LABELS else "email"], None


def exact_place(need: Post, with_zip: bool = True) -> str:
    """Where the help happens: the asker's address, pickup area and town (private until approval)."""
    town = f"{need.town}, {need.state}" + (f" {need.zip_code}" if with_zip else "")
    return ", ".join(x for x in (need.street_address, need.pickup_area, town) if x)


def card_for(match: Match, whose: str) -> ContactCard:
    """The card of one side of a match ('need' or 'offer'), as the other side sees it."""
    post = match.need if whose == "need" else match.offer
    person = db.session.get(User, post.owner_id)
    how, reach = reach_of(person)
    place = exact_place(match.need) if whose == "need" else f"{match.offer.town}, {match.offer.state}"
    return ContactCard(person.first_name, how, reach, place, match.scheduled_at)


def contact_cards(viewer: User, match: Match) -> dict[str, ContactCard]:
    """The details this viewer may see ({} before approval or for anyone uninvolved): the other
    person's for one of the two, both for coordinators. Each showing goes to the audit log."""
    if not shows_contact(viewer, match):
        return {}
    side = side_of(viewer, match)
    sides = ("need", "offer") if viewer.is_coordinator else (("offer",) if side == "need" else ("need",))
    cards = {whose: card_for(match, whose) for whose in sides}
    if "offer" in cards and side == "need" and viewer.role == "resident":
        from app.services.vetting import checked_by_residence

        cards["offer"].checked = checked_by_residence(match)
    for whose in sides:
        audit.record(viewer, "contact_view", "match", match.id, whose=whose)
    db.session.commit()
    return cards


def acting_coordinator(person: User, filed_by_id: int | None = None) -> User | None:
    """The coordinator who acts for someone: whoever filed this post or request for them, else
    whoever registered them, as long as they are a coordinator now and have an email."""
    for user_id in (filed_by_id, person.created_by_id):
        if user_id and user_id != person.id:
            user = db.session.get(User, user_id)
            if user is not None and user.is_coordinator and user.email:
                return user
    return None


def notice_recipient(post: Post) -> tuple[User, User | None]:
    """Who gets email about this side of a match: (the person, who reads it). The reader is the
    person, or the coordinator acting for someone who cannot log in, or None."""
    person = db.session.get(User, post.owner_id)
    if person.email and not person.acted_for:
        return person, person
    return person, acting_coordinator(person, post.created_by_id)
