"""Places: offline ZIP centroids, optional online geocoding, coarse cells and distance buckets."""
import logging
import math
import re
import subprocess
import sys
import threading
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l

from app.services import FieldError

log = logging.getLogger(__name__)
EARTH_RADIUS_MI = 3958.7613
EARTH_RADIUS_KM = 6371.0088
CELL_DEG = 0.01  # about 1.1 km north-south
# Labels are lazy: a page shows them in its reader's language, an email in its recipient's.
BUCKETS = ((2, _l("Under 2 mi")), (5, _l("2–5 mi")), (10, _l("5–10 mi")), (25, _l("10–25 mi")))
OVER = _l("Over 25 mi")
ZIP_RE = re.compile(r"^\d{5}$")

_zip_index: dict[str, tuple[float, float, str, str]] | None = None
_zip_lock = threading.Lock()


@dataclass(frozen=True)
class Place:
    zip_code: str
    town: str
    state: str
    lat: float
    lon: float


# Run in a child process: the `zipcodes` package materializes all 42,000 of its records as dicts
# (about 140 MB) and keeps them for the life of the process, and memory freed after such a load is
# not given back. The child prints one line per ZIP; the parent keeps ~42,000 small tuples (~10 MB).
_DUMP_ZIPS = """
import sys, zipcodes
out = sys.stdout
for row in zipcodes.list_all():
    out.write("\\t".join((row["zip_code"], str(row["lat"]), str(row["long"]), row["city"], row["state"])) + "\\n")
"""


def _load_zip_index() -> dict[str, tuple[float, float, str, str]]:
    """ZIP -> (lat, lon, town, state) from the `zipcodes` package's bundled data, loaded once."""
    global _zip_index
    if _zip_index is None:
        with _zip_lock:
            if _zip_index is None:
                _zip_index = _zips_from_child() or _zips_here()
    return _zip_index


def _zips_from_child() -> dict | None:
    try:
        child = subprocess.run([sys.executable, "-X", "utf8", "-c", _DUMP_ZIPS], capture_output=True,
                               encoding="utf-8", timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("reading the ZIP table in a child process failed; reading it here", extra={"error": str(exc)})
        return None
    if child.returncode != 0:
        log.warning("reading the ZIP table in a child process failed; reading it here",
                    extra={"error": child.stderr[-500:]})
        return None
    index = {}
    for line in child.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 5:
            continue
        zip_code, lat, lon, city, state = parts
        try:
            index[zip_code] = _entry(lat, lon, city, state)
        except ValueError:
            continue
    return index or None


def _entry(lat: str, lon: str, city: str, state: str) -> tuple[float, float, str, str]:
    """One ZIP's (lat, lon, town, state) from the package's fields, as both readers keep it."""
    return float(lat), float(lon), sys.intern(city.title()), sys.intern(state)


def _zips_here() -> dict:
    """The same table read in this process (it keeps the package's records: ~140 MB)."""
    import zipcodes

    index = {}
    for row in zipcodes.list_all():
        try:
            index[row["zip_code"]] = _entry(row["lat"], row["long"], row["city"], row["state"])
        except (TypeError, ValueError):
            continue
    return index


def preload() -> None:
    """Read the ZIP table now (gunicorn's master does, so that its workers share one copy and no
    one's first post waits the second it takes)."""
    _load_zip_index()


def lookup_zip(zip_code: str) -> Place | None:
    """The centroid and town of a US ZIP code, or None if it is not a known ZIP."""
    zip_code = (zip_code or "").strip()
    if not ZIP_RE.match(zip_code):
        return None
    row = _load_zip_index().get(zip_code)
    if row is None:
        return None
    lat, lon, town, state = row
    return Place(zip_code, town, state, lat, lon)


def locate(zip_code: str, street_address: str | None = None) -> Place:
    """Where a post or member is: the ZIP centroid, refined by an online geocoder if configured.

    Raises FieldError("zip_code") for an unknown ZIP. The online geocoder is optional and any
    failure of it falls back to the ZIP centroid, so posting never depends on the network.
    """
    zip_code = (zip_code or "").strip()
    if not ZIP_RE.match(zip_code):
        raise FieldError("zip_code", _("Enter a 5-digit US ZIP code."))
    place = lookup_zip(zip_code)
    if place is None:
        raise FieldError("zip_code", _("We don't know ZIP %(zip)s.", zip=zip_code))
    if street_address and current_app.config.get("GEOCODER"):
        refined = _geocode_online(f"{street_address}, {place.town}, {place.state} {zip_code}")
        if refined and haversine_miles(place.lat, place.lon, *refined) < 30:
            return Place(zip_code, place.town, place.state, refined[0], refined[1])
    return place


def _geocode_online(query: str) -> tuple[float, float] | None:
    try:
        from geopy.geocoders import get_geocoder_for_service

        cls = get_geocoder_for_service(current_app.config["GEOCODER"])
        geocoder = cls(user_agent=current_app.config["GEOCODER_USER_AGENT"], timeout=5)
        result = geocoder.geocode(query, country_codes="us") if cls.__name__ == "Nominatim" else geocoder.geocode(query)
        return (result.latitude, result.longitude) if result else None
    except Exception:  # noqa: BLE001 - any geocoder failure falls back to the ZIP centroid
        log.warning("online geocoder failed; using the ZIP centroid")
        return None


def coarse_cell(lat: float, lon: float) -> tuple[float, float]:
    """The centre of the ~1 km grid cell holding a point: what every public distance uses."""
    cell_lat = (math.floor(lat / CELL_DEG) + 0.5) * CELL_DEG
    lon_step = CELL_DEG / max(math.cos(math.radians(cell_lat)), 0.01)
    cell_lon = (math.floor(lon / lon_step) + 0.5) * lon_step
    return round(cell_lat, 5), round(cell_lon, 5)


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MI * math.asin(math.sqrt(min(a, 1.0)))


def distance_bucket(miles: float):
    """The bucket's label, a lazy string: str() it for anything but showing it (it is not a str)."""
    for limit, label in BUCKETS:
        if miles < limit:
            return label
    return OVER


def viewer_origin(user, near_zip: str | None = None) -> tuple[float, float] | None:
    """Where distances on a public page are measured from: the ZIP typed in the filter, else the
    member's own ZIP (its ~1 km cell, as every public distance is), else nowhere."""
    if near_zip:
        place = lookup_zip(near_zip)
        if place:
            return coarse_cell(place.lat, place.lon)
    if getattr(user, "is_authenticated", False) and user.lat is not None:
        return coarse_cell(user.lat, user.lon)
    return None
