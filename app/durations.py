"""Durations in words, the one way the site says how long something takes or lasts."""

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
            return "a day" if days == 1 else f"{days} days"
        return f"{days} {'day' if days == 1 else 'days'} {_hours(rest)}"
    return _hours(total)


def _hours(total: int) -> str:
    hours, mins = divmod(total, 60)
    if not hours:
        return f"{mins} {'minute' if mins == 1 else 'minutes'}"
    if mins == 30:
        return f"{hours}½ hours"
    hour_words = f"{hours} {'hour' if hours == 1 else 'hours'}"
    return f"{hour_words} {mins} {'minute' if mins == 1 else 'minutes'}" if mins else hour_words
