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
