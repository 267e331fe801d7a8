"""Why a pair was suggested: reason codes with their values, and their English phrases.

A reason code is a tuple, a code word and its values:

- ``("same_kind", ("resume", "interview"))``: the words the two posts share;
- ``("offers", "rides")``: no shared words; the offer is of the need's category;
- ``("near",)``: under 1 km apart; ``("distance_km", 4)``: about 4 km apart (rounded);
- ``("any_time",)``: the offer gave no times, so any time suits;
- ``("free", 90, "requested")`` / ``("free", 90, "two_weeks")``: the minutes both are free, within
  the need's requested times or, for a flexible need, the next two weeks;
- ``("urgent", 2)`` (within 48 hours) / ``("urgent", 3)`` (today);
- ``("waiting", 9)``: the need has waited this many days.

Version 1's ``reasons`` are ``phrase(code)`` for each code, word for word as before; an application
words the codes (``Candidate.reason_codes``) in its reader's language and units.
"""
from __future__ import annotations

URGENCY_WORDS = {2: "urgent: within 48 hours", 3: "urgent: today"}


def text_code(shared: list[str], category: str) -> tuple:
    return ("same_kind", tuple(shared)) if shared else ("offers", category)


def place_time_codes(need_has_times: bool, offer_has_times: bool, distance_km: float, overlap_s: int) -> list[tuple]:
    # Rounded to a millionth of a km first: the whole solve and the single-post calls compute a
    # distance by two float routes, and 5.4999999 against 5.5000001 must not read "5 km" / "6 km".
    km = round(float(distance_km), 6)
    place = ("near",) if km < 1 else ("distance_km", int(f"{km:.0f}"))
    if not offer_has_times:
        return [place, ("any_time",)]
    return [place, ("free", int(overlap_s) // 60, "requested" if need_has_times else "two_weeks")]


def need_codes(urgency: int, waited_days: int | None) -> list[tuple]:
    if urgency in URGENCY_WORDS:
        return [("urgent", urgency)]
    if waited_days is not None and waited_days >= 7:
        return [("waiting", waited_days)]
    return []


def as_json(codes) -> list[list]:
    """Reason codes as plain JSON lists (the output document, a database column)."""
    return [[c[0], *(list(v) if isinstance(v, tuple) else v for v in c[1:])] for c in codes]


def phrase(code: tuple) -> str:
    """The English phrase of version 1 for one reason code."""
    kind = code[0]
    if kind == "same_kind":
        return f"same kind of help: {', '.join(code[1])}"
    if kind == "offers":
        return f"offers {code[1].replace('_', ' ')}"
    if kind == "near":
        return "under 1 km away"
    if kind == "distance_km":
        return f"{code[1]} km away"
    if kind == "any_time":
        return "available any time"
    if kind == "free":
        where = "in the requested time" if code[2] == "requested" else "in the next two weeks"
        return f"free {duration(code[1] * 60)} {where}"
    if kind == "urgent":
        return URGENCY_WORDS[code[1]]
    if kind == "waiting":
        return f"waiting {code[1]} days"
    raise ValueError(f"unknown reason code {kind!r}")


def duration(seconds: int) -> str:
    """90 minutes -> '1 h 30 min'; whole hours and minutes only."""
    hours, minutes = divmod(int(seconds) // 60, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"
