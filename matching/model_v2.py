"""Version 2 of the format (mutual-aid-matching/2): parsing of its additions and its output document.

A version 2 document is a version 1 document whose needs may carry `occurrences` (a repeating need)
and `requires`, whose offers may carry `sessions` (a group offer) and `provides`, and which may carry
`exclude_owners` and `exclude_pairs` (hard exclusions: matching/exclusions.py). Everything else is
read by version 1's parser, so every version 1 rule and message holds unchanged. docs/matching-format.md
is the spec.
"""
from __future__ import annotations

from dataclasses import replace

from matching.model import (FORMAT_V2, Assignment, Candidate, Need, Occurrence, Offer, Result, Session, _count, _fail,
                            _time, parse_need, parse_offer)
from matching.exclusions import parse_labels
from matching.reasons import as_json

MAX_OCCURRENCES = 366
MAX_SESSIONS = 366
LEGS = ("out", "return")


def _where(kind: str, d: dict, i: int) -> str:
    pid = d.get("id")
    return f"{kind} {pid!r} ({kind}s[{i}])"


def _items(raw, where: str, name: str, limit: int, fields: str) -> list:
    if not isinstance(raw, list) or not 1 <= len(raw) <= limit:
        _fail(where, f"'{name}' must be a list of 1 to {limit} {{{fields}}}")
    return raw


def _item_id(item, seen: set, where: str, name: str) -> str:
    if not isinstance(item, dict):
        _fail(where, f"'{name}' must be an object")
    iid = item.get("id")
    if not isinstance(iid, str) or not iid.strip():
        _fail(where, f"'{name}.id' must be a non-empty string")
    if iid in seen:
        _fail(where, f"'{name}.id' {iid!r} is used twice")
    seen.add(iid)
    return iid


def _span(item: dict, where: str, name: str):
    start, end = _time(item.get("start"), where, f"{name}.start"), _time(item.get("end"), where, f"{name}.end")
    if end <= start:
        _fail(where, f"'{name}.end' is not after its start")
    return start, end


def parse_need_v2(d: dict, i: int = 0) -> Need:
    """A version 2 need: version 1's fields, optionally `requires`, and optionally `occurrences` (then no `when`)."""
    need = parse_need(d, i)
    if d.get("requires") is not None:
        need = replace(need, requires=parse_labels(d["requires"], _where("need", d, i), "requires"))
    raw = d.get("occurrences")
    if raw is None:
        return need
    where = _where("need", d, i)
    if need.when:
        _fail(where, "'when' and 'occurrences' cannot both be given (a repeating need has only its occurrences)")
    out, seen = [], set()
    for j, item in enumerate(_items(raw, where, "occurrences", MAX_OCCURRENCES, "id, start, end, leg")):
        name = f"occurrences[{j}]"
        oid = _item_id(item, seen, where, name)
        start, end = _span(item, where, name)
        minutes = (end - start).total_seconds() / 60
        if minutes < need.duration_min - 1e-9:
            _fail(where, f"'{name}' lasts {minutes:g} min, shorter than 'duration_min' ({need.duration_min:g} min)")
        leg = item.get("leg", "out")
        if leg is None:
            leg = "out"
        if leg not in LEGS:
            _fail(where, f"'{name}.leg' is {leg!r}; use 'out' or 'return'")
        out.append(Occurrence(oid, start, end, leg))
    return replace(need, occurrences=tuple(out))


def parse_offer_v2(d: dict, i: int = 0) -> Offer:
    """A version 2 offer: version 1's fields, optionally `provides`, and optionally `sessions` (then no `when` or `weekly`)."""
    offer = parse_offer(d, i)
    if d.get("provides") is not None:
        offer = replace(offer, provides=parse_labels(d["provides"], _where("offer", d, i), "provides"))
    raw = d.get("sessions")
    if raw is None:
        return offer
    where = _where("offer", d, i)
    if offer.when or offer.weekly:
        _fail(where, "'sessions' cannot be combined with 'when' or 'weekly' (a group offer meets only at its sessions)")
    out, seen = [], set()
    for j, item in enumerate(_items(raw, where, "sessions", MAX_SESSIONS, "id, start, end, places")):
        name = f"sessions[{j}]"
        sid = _item_id(item, seen, where, name)
        start, end = _span(item, where, name)
        out.append(Session(sid, start, end, _count(item.get("places"), where, f"{name}.places")))
    return replace(offer, sessions=tuple(out))


# Output --------------------------------------------------------------------------------------------

def candidate_dict(c: Candidate, reason_codes: bool = False) -> dict:
    """One candidate in the version 2 output (version 1's keys first, then the optional ones, in fixed order)."""
    out = {"offer": c.offer, "score": c.score, "distance_km": c.distance_km, "overlap_min": c.overlap_min,
           "reasons": list(c.reasons)}
    if reason_codes:
        out["reason_codes"] = as_json(c.reason_codes)
    if c.standing is not None:
        out["standing"] = c.standing
        out["covers"] = list(c.covers)
    if c.session is not None:
        out["session"] = c.session
        out["sessions"] = list(c.sessions)
    return out


def assignment_dict(a: Assignment) -> dict:
    """One assignment row in the version 2 output (keys in fixed order; the optional ones only when they apply)."""
    out = {"need": a.need, "offer": a.offer, "units": a.units, "score": a.score}
    if a.standing:
        out["standing"] = True
    if a.occurrence is not None:
        out["occurrence"] = a.occurrence
        out["bonus"] = a.bonus
    if a.session is not None:
        out["session"] = a.session
    return out


def result_to_dict(result: Result, reason_codes: bool = False) -> dict:
    """The version 2 output document of a result."""
    return {
        "format": FORMAT_V2,
        "candidates": {nid: [candidate_dict(c, reason_codes) for c in cands] for nid, cands in result.candidates.items()},
        "assignment": [assignment_dict(a) for a in result.assignment],
        "objective": result.objective,
        "date_objectives": dict(result.date_objectives),
    }
