"""Durations in words, the one way the site says how long something takes or lasts."""
from flask_babel import gettext as _, ngettext

TASK_DAY = 8 * 60  # "How long it takes": the post form's longest choice, "A day", is a day's work
CLOCK_DAY = 24 * 60  # free time: a day is a day


def duration_words(minutes: int | float | None, day: int = TASK_DAY) -> str:
    """120 -> '2 hours', 90 -> '1½ hours', 30 -> '30 minutes', 480 -> 'a day' (the post form's labels).

    `day` is how many minutes read as "a day": a day's work for how long help takes, a whole
    day (CLOCK_DAY) for stretches of free time, so 8 hours free does not read as "a day".
    """
    total = max(0, round(minutes or 0))
    if total >= day:
        days, rest = divmod(total, day)
        if not rest:
            return _("a day") if days == 1 else ngettext("%(num)s day", "%(num)s days", days)
        # Translators: a duration of days and hours, "1 day 1½ hours".
        return _("%(days)s %(hours)s", days=ngettext("%(num)s day", "%(num)s days", days), hours=_hours(rest))
    return _hours(total)


def _minutes(mins: int) -> str:
    return ngettext("%(num)s minute", "%(num)s minutes", mins)


def _hours(total: int) -> str:
    hours, mins = divmod(total, 60)
    if not hours:
        return _minutes(mins)
    if mins == 30:
        # Translators: an hour count and a half, "1½ hours", "2½ hours".
        return _("%(num)s½ hours", num=hours)
    hour_words = ngettext("%(num)s hour", "%(num)s hours", hours)
    # Translators: a duration of hours and minutes, "1 hour 15 minutes".
    return _("%(hours)s %(minutes)s", hours=hour_words, minutes=_minutes(mins)) if mins else hour_words
