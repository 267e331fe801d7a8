"""The engine's data: frozen dataclasses for the mutual-aid-matching/1 and /2 formats, parsed and checked.

Version 2's additions (a need's `occurrences` and `requires`, an offer's `sessions` and `provides`,
the instance's `exclude_owners` and `exclude_pairs`, and the optional output fields of candidates and
assignments) default to "absent", so version 1 objects and documents are unchanged; their parsing
and output live in matching/model_v2.py and matching/exclusions.py. The format is specified in
docs/matching-format.md.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FORMAT = "mutual-aid-matching/1"
FORMAT_V2 = "mutual-aid-matching/2"
FORMATS = (FORMAT, FORMAT_V2)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class InstanceError(ValueError):
    """A malformed instance; the message names the post and the field."""


@dataclass(frozen=True)
class Window:
    """A dated window; start and end are timezone-aware (their epoch seconds are kept too)."""

    start: datetime
    end: datetime
    start_ts: int = field(init=False, repr=False, compare=False)
    end_ts: int = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "start_ts", int(self.start.timestamp()))
        object.__setattr__(self, "end_ts", int(self.end.timestamp()))


@dataclass(frozen=True)
class WeeklySlot:
    """A weekly slot in the offer's zone: day 0 = Monday, minutes after midnight; end <= start runs past midnight."""

    day: int
    start_min: int
    end_min: int


@dataclass(frozen=True)
class Occurrence:
    """One dated instance of a repeating need (version 2): like a window in which the help must fit.

    `leg` is "out" or "return" (a ride's way back); both kinds are matched alike.
    """

    id: str
    start: datetime
    end: datetime
    leg: str = "out"
    start_ts: int = field(init=False, repr=False, compare=False)
    end_ts: int = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "start_ts", int(self.start.timestamp()))
        object.__setattr__(self, "end_ts", int(self.end.timestamp()))

    @property
    def date(self) -> str:
        """The calendar date of `start` in its own UTC offset (stage B groups occurrences by it)."""
        return self.start.date().isoformat()


@dataclass(frozen=True)
class Session:
    """A fixed meeting of a group offer (version 2): a need joins it with `quantity` of its `places`."""

    id: str
    start: datetime
    end: datetime
    places: int
    start_ts: int = field(init=False, repr=False, compare=False)
    end_ts: int = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "start_ts", int(self.start.timestamp()))
        object.__setattr__(self, "end_ts", int(self.end.timestamp()))


@dataclass(frozen=True)
class Need:
    """A need: version 1's fields (windows in `when`, or flexible), or version 2's repeating need (`occurrences`)."""

    id: str
    category: str
    title: str
    lat: float
    lon: float
    quantity: int = 1
    owner: str | None = None
    details: str = ""
    max_km: float | None = None
    urgency: int = 0
    posted: datetime | None = None
    when: tuple[Window, ...] = ()
    duration_min: float = 60.0
    occurrences: tuple[Occurrence, ...] = ()  # version 2: a repeating need (then `when` is empty)
    requires: tuple[str, ...] = ()  # version 2: fits only an offer that provides all of these (matching/exclusions.py)


@dataclass(frozen=True)
class Offer:
    """An offer: free at its windows and weekly slots (any time without them), or a group offer (`sessions`)."""

    id: str
    category: str
    title: str
    lat: float
    lon: float
    radius_km: float
    capacity: int
    owner: str | None = None
    details: str = ""
    when: tuple[Window, ...] = ()
    weekly: tuple[WeeklySlot, ...] = ()
    tz: str = "UTC"
    committed: int = 0  # units already promised elsewhere (how loaded the offer is)
    sessions: tuple[Session, ...] = ()  # version 2: a group offer met only at these (no when/weekly)
    provides: tuple[str, ...] = ()  # version 2: what its checks cover (a need's `requires` must be among them)


@dataclass(frozen=True)
class Instance:
    """The open posts at `now`, and how many candidates each need lists."""

    now: datetime
    needs: tuple[Need, ...]
    offers: tuple[Offer, ...]
    top_k: int = 10
    format: str = FORMAT  # a Python-built instance with occurrences or sessions is solved as version 2 anyway
    # Version 2's hard exclusions: owner pairs never paired either way round, (need id, offer id) pairs never paired.
    exclude_owners: tuple[tuple[str, str], ...] = ()
    exclude_pairs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Candidate:
    """A feasible pairing, with the engine's score in (0, 1] and reasons a coordinator reads."""

    need: str
    offer: str
    score: float
    distance_km: float
    overlap_min: int
    reasons: tuple[str, ...] = field(default=())
    # The same reasons as codes with their values (matching/reasons.py), for wording them in the
    # reader's language and units; optional in the output document ("reason_codes": true).
    reason_codes: tuple[tuple, ...] = field(default=())
    # Version 2. A repeating need's candidate: standing (serves every future occurrence) and the
    # occurrence ids it can serve; None/() for a one-off need. A group offer's candidate: the session
    # shown (the earliest that fits) and every session that fits, by start.
    standing: bool | None = None
    covers: tuple[str, ...] = ()
    session: str | None = None
    sessions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    """Units of a need given by an offer, at the pair's score."""

    need: str
    offer: str
    units: int
    score: float
    # Version 2: a standing assignment (every future occurrence of a repeating need); or one
    # occurrence of it (stage B), with the same-helper bonus it earned; or a session of a group offer.
    standing: bool = False
    occurrence: str | None = None
    session: str | None = None
    bonus: float = 0.0


@dataclass(frozen=True)
class Result:
    """Candidates per need (input order), the assignment and its objective."""

    candidates: dict[str, tuple[Candidate, ...]]
    assignment: tuple[Assignment, ...]
    objective: float
    date_objectives: dict[str, float] = field(default_factory=dict)  # version 2: stage B, per date
    format: str = FORMAT

    def to_dict(self) -> dict:
        """The output document of the format (key order fixed, so output is byte-stable)."""
        if self.format != FORMAT:
            from matching.model_v2 import result_to_dict

            return result_to_dict(self)
        return {
            "format": FORMAT,
            "candidates": {
                nid: [{"offer": c.offer, "score": c.score, "distance_km": c.distance_km,
                       "overlap_min": c.overlap_min, "reasons": list(c.reasons)} for c in cands]
                for nid, cands in self.candidates.items()
            },
            "assignment": [{"need": a.need, "offer": a.offer, "units": a.units, "score": a.score} for a in self.assignment],
            "objective": self.objective,
        }


# Parsing -------------------------------------------------------------------------------------

def _fail(where: str, message: str):
    raise InstanceError(f"{where}: {message}")


def _time(value, where: str, name: str) -> datetime:
    if not isinstance(value, str):
        _fail(where, f"'{name}' must be an ISO 8601 date-time with a UTC offset")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        _fail(where, f"'{name}' is not a valid ISO 8601 date-time: {value!r}")
    if parsed.tzinfo is None:
        _fail(where, f"'{name}' needs a UTC offset, e.g. {value}-06:00")
    return parsed


def _number(value, where: str, name: str, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(where, f"'{name}' must be a number")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        _fail(where, f"'{name}' is {value}, outside {lo} to {hi}")
    return float(value)


def _count(value, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail(where, f"'{name}' must be a positive whole number")
    return value


def _text(value, where: str, name: str, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        _fail(where, f"'{name}' must be a non-empty string" if required else f"'{name}' must be a string")
    return value


def _windows(raw, where: str) -> tuple[Window, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        _fail(where, "'when' must be a list of {start, end}")
    out = []
    for i, w in enumerate(raw):
        if not isinstance(w, dict) or "start" not in w or "end" not in w:
            _fail(where, f"'when[{i}]' needs 'start' and 'end'")
        start, end = _time(w["start"], where, f"when[{i}].start"), _time(w["end"], where, f"when[{i}].end")
        if end <= start:
            _fail(where, f"'when[{i}].end' is not after its start")
        out.append(Window(start, end))
    return tuple(out)


def _hhmm(value, where: str, name: str) -> int:
    match = _HHMM.match(value) if isinstance(value, str) else None
    if not match:
        _fail(where, f"'{name}' must be a time HH:MM, got {value!r}")
    return int(match.group(1)) * 60 + int(match.group(2))


def _weekly(raw, where: str) -> tuple[WeeklySlot, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        _fail(where, "'weekly' must be a list of {day, start, end}")
    out = []
    for i, s in enumerate(raw):
        if not isinstance(s, dict):
            _fail(where, f"'weekly[{i}]' must be an object")
        day = s.get("day")
        if day not in DAYS:
            _fail(where, f"'weekly[{i}].day' is {day!r}; use one of {', '.join(DAYS)}")
        out.append(WeeklySlot(DAYS.index(day), _hhmm(s.get("start"), where, f"weekly[{i}].start"),
                              _hhmm(s.get("end"), where, f"weekly[{i}].end")))
    return tuple(out)


def _owner(value, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        _fail(where, "'owner' must be a string")
    return str(value) or None


def parse_need(d: dict, i: int = 0) -> Need:
    """A version 1 need from its JSON object (`i`: its place in `needs`, for messages)."""
    if not isinstance(d, dict):
        _fail(f"needs[{i}]", "must be an object")
    nid = d.get("id")
    where = f"need {nid!r} (needs[{i}])" if isinstance(nid, str) else f"needs[{i}]"
    _text(nid, where, "id", required=True)
    max_km = d.get("max_km")
    urgency = d.get("urgency", 0)
    if urgency is None:
        urgency = 0
    if isinstance(urgency, bool) or not isinstance(urgency, int) or not 0 <= urgency <= 3:
        _fail(where, "'urgency' must be 0, 1, 2 or 3")
    return Need(
        id=nid, category=_text(d.get("category"), where, "category", required=True),
        title=_text(d.get("title"), where, "title"), details=_text(d.get("details"), where, "details"),
        lat=_number(d.get("lat"), where, "lat", -90, 90), lon=_number(d.get("lon"), where, "lon", -180, 180),
        quantity=_count(d.get("quantity", 1), where, "quantity"), owner=_owner(d.get("owner"), where),
        max_km=None if max_km is None else _number(max_km, where, "max_km", 0, None), urgency=urgency,
        posted=_time(d["posted"], where, "posted") if d.get("posted") is not None else None,
        when=_windows(d.get("when"), where),
        duration_min=_number(d.get("duration_min", 60) if d.get("duration_min") is not None else 60, where, "duration_min", 1, 60 * 24 * 14),
    )


def parse_offer(d: dict, i: int = 0) -> Offer:
    """A version 1 offer from its JSON object (`i`: its place in `offers`, for messages)."""
    if not isinstance(d, dict):
        _fail(f"offers[{i}]", "must be an object")
    oid = d.get("id")
    where = f"offer {oid!r} (offers[{i}])" if isinstance(oid, str) else f"offers[{i}]"
    _text(oid, where, "id", required=True)
    tz = d.get("tz") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        _fail(where, f"'tz' {tz!r} is not a known IANA time zone")
    committed = d.get("committed", 0) or 0
    if isinstance(committed, bool) or not isinstance(committed, int) or committed < 0:
        _fail(where, "'committed' must be a whole number, 0 or more")
    return Offer(
        id=oid, category=_text(d.get("category"), where, "category", required=True),
        title=_text(d.get("title"), where, "title"), details=_text(d.get("details"), where, "details"),
        lat=_number(d.get("lat"), where, "lat", -90, 90), lon=_number(d.get("lon"), where, "lon", -180, 180),
        radius_km=_number(d.get("radius_km"), where, "radius_km", 0, None),
        capacity=_count(d.get("capacity"), where, "capacity"), owner=_owner(d.get("owner"), where),
        when=_windows(d.get("when"), where), weekly=_weekly(d.get("weekly"), where), tz=tz, committed=committed,
    )


def parse_instance(doc) -> Instance:
    """Check and convert a parsed JSON document (version 1 or 2); raises InstanceError naming the post and field."""
    if not isinstance(doc, dict):
        raise InstanceError("the instance must be a JSON object")
    if doc.get("format") not in FORMATS:
        raise InstanceError(f"'format' must be {FORMAT!r} or {FORMAT_V2!r}, got {doc.get('format')!r}")
    from matching.exclusions import parse_exclusions, refuse_in_v1

    if doc["format"] == FORMAT_V2:
        from matching.model_v2 import parse_need_v2, parse_offer_v2

        return parse_exclusions(doc, parse_posts(doc, parse_need_v2, parse_offer_v2, FORMAT_V2))
    refuse_in_v1(doc)
    return parse_posts(doc, parse_need, parse_offer, FORMAT)


def parse_posts(doc: dict, need_parser, offer_parser, fmt: str) -> Instance:
    """The instance's fields and posts, each post read by the given version's parser."""
    now = _time(doc.get("now"), "instance", "now")
    top_k = doc.get("top_k", 10)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise InstanceError("instance: 'top_k' must be a positive whole number")
    raw_needs, raw_offers = doc.get("needs"), doc.get("offers")
    if not isinstance(raw_needs, list) or not isinstance(raw_offers, list):
        raise InstanceError("instance: 'needs' and 'offers' must be lists")
    needs = tuple(need_parser(d, i) for i, d in enumerate(raw_needs))
    offers = tuple(offer_parser(d, i) for i, d in enumerate(raw_offers))
    for kind, items in (("need", needs), ("offer", offers)):
        seen = set()
        for item in items:
            if item.id in seen:
                raise InstanceError(f"{kind} {item.id!r}: 'id' is used twice")
            seen.add(item.id)
    return Instance(now=now, needs=needs, offers=offers, top_k=top_k, format=fmt)
