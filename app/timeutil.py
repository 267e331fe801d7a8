"""Times are stored as naive UTC in the database and shown in the community's zone.

The test clock: with `APP_ENV=testing` and `TEST_CLOCK_FILE` naming a file, `utcnow()` is the real
time plus the number of seconds written in that file, so an end-to-end test can move the server's
and the worker's clock to a digest hour. Any other APP_ENV ignores the variable (and `create_app`
refuses to start with it), so a deployment can never run on a shifted clock. Leases and logs use
`real_utcnow()`.
"""
import os
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app

_CLOCK_FILE = os.environ.get("TEST_CLOCK_FILE") if os.environ.get("APP_ENV") == "testing" else None
_clock_cache: tuple[float, float] = (-1.0, 0.0)  # (file mtime, offset seconds)


def real_utcnow() -> datetime:
    """The machine's time as naive UTC, whatever the test clock says."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _test_offset() -> float:
    global _clock_cache
    try:
        mtime = os.stat(_CLOCK_FILE).st_mtime
    except OSError:
        return 0.0
    if mtime != _clock_cache[0]:
        try:
            with open(_CLOCK_FILE) as fh:
                _clock_cache = (mtime, float(fh.read().strip() or 0))
        except (OSError, ValueError):
            return 0.0
    return _clock_cache[1]


def utcnow() -> datetime:
    """The current time as naive UTC, the form every DateTime column holds."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    if _CLOCK_FILE:
        now += timedelta(seconds=_test_offset())
    return now


def community_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["COMMUNITY_TZ"])


def local_to_utc(day: date, at: time, zone: ZoneInfo | None = None) -> datetime:
    """A wall-clock date and time in the community's zone, as naive UTC."""
    zone = zone or community_zone()
    aware = datetime.combine(day, at).replace(tzinfo=zone)
    return aware.astimezone(timezone.utc).replace(tzinfo=None)


def utc_to_local(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    zone = zone or community_zone()
    return value.replace(tzinfo=timezone.utc).astimezone(zone)


def local_today(zone: ZoneInfo | None = None) -> date:
    """Today's date in the community's zone."""
    return utc_to_local(utcnow(), zone).date()


def minutes_to_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def days_from_now(days: int) -> datetime:
    return utcnow() + timedelta(days=days)
