"""Models turned into the API's answers: the fields each reader may see, as the site's pages show
them (app/api/schemas.py says which). Nothing here reads an owner, a role, an address or a point."""
from app.models import Match, Post
from app.models.posts import units_text
from app.services import match_queue, repeat
from app.services.disclosure import contact_cards, side_of
from app.services.groups_browse import places_label
from app.timeutil import utc_to_local


def _local_day(value):
    return utc_to_local(value).date()


def post_summary(post: Post, distance) -> dict:
    need = post.kind == "need"
    return {
        "id": post.id, "kind": post.kind, "category": post.category, "category_label": post.category_label,
        "title": post.title, "town": post.town, "state": post.state,
        "distance": str(distance) if distance is not None else None,
        "urgency": post.urgency_now if need else None,
        "urgency_label": post.urgency_label if need else None,
        "needed_by": post.needed_by if need else None,
        "quantity": post.quantity, "quantity_label": post.quantity_label,
        "posted_on": _local_day(post.created_at),
    }


def post_detail(post: Post, distance) -> dict:
    need, rides = post.kind == "need", post.category == "rides"
    return {
        **post_summary(post, distance),
        "details": post.details or "",
        "flexible": bool(post.flexible) if need else False,
        "duration_min": post.duration_min if need else None,
        "windows": [] if (need and post.flexible) else [{"start_at": w.start_at, "end_at": w.end_at} for w in post.windows],
        "weekly": [] if need else [{"day": s.day, "start_min": s.start_min, "end_min": s.end_min, "label": s.label}
                                   for s in post.weekly_slots],
        "repeats": (repeat.describe(post) or None) if post.repeats else None,
        "destination_kind": post.destination_kind if need and rides else None,
        "return_trip": bool(post.return_trip) if need and rides else False,
        "appointment_at": post.appointment_at if need and rides else None,
        "radius_miles": None if need else post.radius_miles,
        "offer_format": None if need else post.offer_format,
    }


def my_post(post: Post, match_ids: list[int]) -> dict:
    return {**post_detail(post, None), "status": post.status, "status_label": post.status_label,
            "units_left": post.units_left, "expires_at": post.expires_at,
            "looking_for": match_queue.looking_for(post) if post.kind == "need" else "",
            "match_ids": match_ids}


def post_ref(post: Post) -> dict:
    return {"id": post.id, "title": post.title, "category": post.category, "category_label": post.category_label,
            "town": post.town, "state": post.state}


def match(viewer, m: Match, with_contacts: bool = False) -> dict:
    """A match as its page shows it to this viewer; contact cards (audited, as on the page) only
    when asked for and only where disclosure allows them."""
    side = side_of(viewer, m)
    cards = contact_cards(viewer, m) if with_contacts else {}
    return {
        "id": m.id, "status": m.status, "state_label": str(m.state_label), "units": m.units,
        "units_label": units_text(m.units, m.need.category), "side": side,
        "my_answer": (m.need_answer if side == "need" else m.offer_answer) if side else None,
        "respond_by": m.respond_by if m.status == "approved" else None,
        "scheduled_at": m.scheduled_at if m.status in ("approved", "accepted", "completed") else None,
        "need": post_ref(m.need), "offer": post_ref(m.offer),
        "contacts": [{"whose": whose, "first_name": c.first_name, "how": str(c.how), "reach": c.reach, "place": c.place,
                      "when": c.when, "checked": bool(c.checked)} for whose, c in cards.items()],
    }


def queue_item(viewer, item) -> dict:
    from app.services.reasons import reason_text

    m = item.match
    return {
        "match": match(viewer, m), "urgency_label": m.need.urgency_label,
        "distance": str(item.bucket) if item.bucket is not None else None,
        "source": m.source, "source_label": str(m.source_label),
        "reasons": [reason_text(r) for r in (m.reasons or [])], "note": m.note,
        "left_out": [str(x) for x in item.left_out],
        "own_post": viewer.id in (m.need.owner_id, m.offer.owner_id),
    }


def group_session(item) -> dict:
    s = item.session
    return {
        "id": s.id, "title": s.offer.title, "category": s.offer.category, "category_label": s.offer.category_label,
        "town": s.offer.town, "state": s.offer.state,
        "distance": str(item.distance) if item.distance is not None else None,
        "starts_at": s.starts_at, "ends_at": s.ends_at, "places_left": s.places_left, "places_label": places_label(s),
        "my_status": item.my_status,
    }
