"""Matching a need that repeats (or a ride with its way back) through the engine's version 2.

The engine gets the need's dates still looking for a helper as `occurrences` and answers with a
standing assignment (one offer free for every date) or, where no one offer can, an offer per date
with a bonus for keeping the same helper (docs/matching-format.md). Here that becomes proposals:
one standing match, or one match per helper covering the dates the engine gave them. `plan` only
reads (it runs before the write transaction); `propose` writes.
"""
import dataclasses
import logging
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import select

import matching
from app.extensions import db
from app.models import Match, Post
from app.models.repeat import NeedOccurrence
from app.services import exclusions
from app.services import match_engine as engine
from app.timeutil import community_zone, utcnow

log = logging.getLogger(__name__)
# Stored on a match its helper ended part-way (`reject_reason`, a code): that helper is not
# proposed again for the same need.
STOPPED = "stopped helping"


@dataclasses.dataclass
class Plan:
    """The engine's answer for one repeating need: its ranked candidates and the assignment."""

    candidates: list
    assignment: list
    rows: dict  # occurrence id (str) -> NeedOccurrence id (int)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc)


def open_dates(need: Post, replanning: bool = False) -> list[NeedOccurrence]:
    """The need's dates still to come that no match covers; with `replanning`, also those covered
    by the engine's own proposals still waiting (which a fresh plan replaces)."""
    free = NeedOccurrence.match_id.is_(None)
    if replanning:
        free = free | NeedOccurrence.match_id.in_(select(Match.id).where(
            Match.need_id == need.id, Match.status == "proposed", Match.source == "engine"))
    return list(db.session.scalars(select(NeedOccurrence).where(
        NeedOccurrence.need_id == need.id, NeedOccurrence.status.in_(("open", "matched")), free,
        NeedOccurrence.ends_at > utcnow()).order_by(NeedOccurrence.starts_at, NeedOccurrence.leg)))


def as_need(need: Post, rows: list[NeedOccurrence]) -> matching.Need:
    """The need as the engine's version-2 Need: its open dates as occurrences, no windows."""
    base = engine.to_need(need, windows=[])
    # In the community's zone: the engine groups dates by the calendar day of each start as written,
    # so a way back at 19:00 in Chicago stays on its own day (in UTC it would be the next one).
    zone = community_zone()
    occurrences = tuple(matching.Occurrence(id=str(r.id), start=_aware(r.starts_at).astimezone(zone),
                                            end=_aware(r.ends_at).astimezone(zone), leg=r.leg) for r in rows)
    return dataclasses.replace(base, when=(), occurrences=occurrences, quantity=max(1, need.quantity))


def _excluded_offers(need_id: int) -> set[int]:
    return set(db.session.scalars(select(Match.offer_id).where(
        Match.need_id == need_id, (Match.status.in_(("rejected", "declined", "no_show"))) | (Match.reject_reason == STOPPED))))


def _solve(need: Post, rows: list[NeedOccurrence], offers: list, rules: bool = True) -> matching.Result:
    """The engine's version 2 over the need's dates, without any offer whose owner a block, bar or
    rule keeps from this need (app/services/exclusions.py); `rules=False`: bare feasibility."""
    prepared = exclusions.prepare([as_need(need, rows)], offers, apply=rules)
    instance = matching.Instance(now=datetime.now(timezone.utc), needs=prepared.needs, offers=prepared.offers,
                                 top_k=current_app.config["MATCH_TOP_K"], format=matching.FORMAT_V2, **prepared.fields)
    return prepared.keep_result(matching.solve(instance))


def plan(need: Post, replanning: bool = True) -> Plan | None:
    """Read-only: the engine's candidates and assignment for the need's open dates (and those of
    its engine proposals, which `propose_after_save` cancels before writing the new ones)."""
    rows = open_dates(need, replanning=replanning)
    if not rows:
        return None
    reach = engine.reach_of_offers(need.category)
    offers = engine.open_for_engine("offer", need.category, _excluded_offers(need.id), (need.lat, need.lon, reach))
    if not offers:
        return Plan([], [], {})
    result = _solve(need, rows, offers)
    return Plan(list(result.candidates.get(str(need.id), ())), list(result.assignment), {str(r.id): r.id for r in rows})


def propose(need: Post, planned: "Plan | None" = None) -> list[Match]:
    """Proposals from the plan: one standing match, or a match per helper for their dates."""
    from app.services.occurrences import mark_matched
    from app.services.proposals import _proposal, _store_suggestions

    planned = planned if planned is not None else plan(need, replanning=False)
    if planned is None:
        return []
    _store_suggestions(need, planned.candidates)
    by_offer: dict[str, list] = {}
    for a in planned.assignment:
        by_offer.setdefault(a.offer, []).append(a)
    best = {c.offer: c for c in planned.candidates}
    made = []
    for offer_id, items in by_offer.items():
        offer = db.session.get(Post, int(offer_id))
        if offer is None or not offer.is_open or offer.units_left <= 0:
            continue
        standing = any(a.standing for a in items)
        ids = list(planned.rows.values()) if standing else [planned.rows[a.occurrence] for a in items
                                                            if a.occurrence in planned.rows]
        if not ids:
            continue
        match = _proposal(need, offer, min(need.quantity, offer.units_left), best.get(offer_id))
        match.standing = standing
        db.session.flush()
        if mark_matched(match, ids):
            made.append(match)
        else:  # its dates were taken meanwhile: no proposal that covers nothing
            db.session.delete(match)
    return made


def check_pair(need: Post, offer: Post, rules: bool = True) -> matching.Candidate | None:
    """The engine's verdict on an offer for the need's open dates: a candidate (standing or
    covering some dates), or None when it serves none of them (or, with `rules`, when a block,
    bar or rule keeps the two apart)."""
    rows = open_dates(need)
    if not rows:
        return None
    found = _solve(need, rows, [engine.to_offer(offer)], rules).candidates.get(str(need.id), ())
    return found[0] if found and found[0].covers else None


def link_pair(match: Match) -> int:
    """A proposal made by a person ("I can help", a coordinator by hand or by swapping) on a need
    that repeats: it covers the open dates the offer can serve, standing if that is all of them.
    Returns how many dates it covers (0: the offer serves none of them; the caller refuses)."""
    from app.services.occurrences import mark_matched

    need, offer = db.session.get(Post, match.need_id), db.session.get(Post, match.offer_id)
    rows = open_dates(need)
    candidate = check_pair(need, offer)
    if candidate is None:
        return 0
    match.standing = bool(candidate.standing)
    ids = {str(r.id): r.id for r in rows}
    chosen = [ids[c] for c in candidate.covers if c in ids]
    db.session.flush()
    mark_matched(match, chosen)
    return len(chosen)
