"""Small builders for engine tests: plain dicts in the instance format."""
NOW = "2026-12-01T08:00-06:00"


def need(id="n1", **kw):
    base = {"id": id, "owner": "alice", "category": "rides", "title": "Ride to the clinic", "details": "",
            "lat": 45.0, "lon": -92.8, "max_km": None, "quantity": 1, "urgency": 0,
            "when": [{"start": "2026-12-08T09:00-06:00", "end": "2026-12-08T11:00-06:00"}], "duration_min": 60}
    base.update(kw)
    return base


def offer(id="o1", **kw):
    base = {"id": id, "owner": "bob", "category": "rides", "title": "Rides to clinics", "details": "",
            "lat": 45.0, "lon": -92.8, "radius_km": 10.0, "capacity": 1, "when": [], "weekly": [], "tz": "America/Chicago"}
    base.update(kw)
    return base


def instance(needs, offers, now=NOW, top_k=10):
    return {"format": "mutual-aid-matching/1", "now": now, "top_k": top_k, "needs": needs, "offers": offers}


def instance2(needs, offers, now=NOW, top_k=10):
    """A version 2 instance (repeating needs, group offers)."""
    return dict(instance(needs, offers, now, top_k), format="mutual-aid-matching/2")


def weekday_occurrences(first="2026-12-07", weeks=4, start="07:30", end="08:15", leg=None, offset="-06:00"):
    """One occurrence per weekday for `weeks` weeks from Monday `first`: ids "YYYY-MM-DD" (or
    "YYYY-MM-DD/out" and "/return" with a leg)."""
    from datetime import date, timedelta

    day, out = date.fromisoformat(first), []
    for d in range(7 * weeks):
        this = day + timedelta(days=d)
        if this.weekday() < 5:
            occ = {"id": f"{this}/{leg}" if leg else str(this), "start": f"{this}T{start}{offset}", "end": f"{this}T{end}{offset}"}
            if leg:
                occ["leg"] = leg
            out.append(occ)
    return out


def weekly(days, start, end):
    """Weekly slots on the given days ("mon", ...)."""
    return [{"day": d, "start": start, "end": end} for d in days]
