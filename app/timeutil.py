"""Times are stored as naive UTC in the database and shown in the community's zone."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """The current time as naive UTC, the form every DateTime column holds."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


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
