"""The engine's reasons for a suggestion, worded for the coordinator who reads them: in their
language and in miles. The engine gives reason codes with values (matching/reasons.py); rows
stored before codes existed hold its English phrases, shown as they are."""
from flask_babel import gettext as _
from flask_babel import ngettext

from matching.reasons import as_json

from app.durations import CLOCK_DAY, duration_words
from app.models.posts import CATEGORIES

KM_PER_MILE = 1.609344


def stored(candidate) -> list:
    """What a Match or Suggestion row keeps: the codes as JSON lists (English phrases if none)."""
    codes = getattr(candidate, "reason_codes", ())
    if not codes:
        return list(candidate.reasons)
    return as_json(codes)


def reason_text(reason) -> str:
    if isinstance(reason, str):
        return reason  # an English phrase stored before reason codes
    kind, *values = reason
    if kind == "same_kind":
        return _("same kind of help: %(words)s", words=", ".join(values[0]))
    if kind == "offers":
        return _("offers %(category)s", category=str(CATEGORIES.get(values[0], values[0])).lower())
    if kind == "near":
        return _("less than a mile away")
    if kind == "distance_km":
        miles = max(1, round(values[0] / KM_PER_MILE))
        return ngettext("about %(num)s mile away", "about %(num)s miles away", miles)
    if kind == "any_time":
        return _("available any time")
    if kind == "free":
        free = duration_words(values[0], CLOCK_DAY)
        if values[1] == "requested":
            return _("free %(duration)s in the requested time", duration=free)
        return _("free %(duration)s in the next two weeks", duration=free)
    if kind == "urgent":
        return _("urgent: today") if values[0] == 3 else _("urgent: within 48 hours")
    if kind == "waiting":
        return ngettext("waiting %(num)s day", "waiting %(num)s days", values[0])
    return " ".join(str(v) for v in reason)
