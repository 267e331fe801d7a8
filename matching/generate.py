"""Synthetic instances for tests and benchmarks (deterministic for a seed).

`valley`: the St. Croix Valley, dense, most posts within reach of each other.
`national`: posts around US metro areas, sparse between metros, dense inside them.
Each post carries a hidden topic (returned as `truth`) to judge whether the text scoring ranks
same-topic offers first. With `v2=True` the same instance is then given version 2's features (from
a random stream of its own, so version 1 instances are unchanged): some needs repeat (weekday
commutes with or without a return leg, weekly appointments and groups), some ride offers become
weekday commuters, and some skills and peer-support offers become group offers with sessions.
With `exclusions=True` (also from a stream of its own) it gets version 2's hard exclusions: blocks
between owners with posts near each other, excluded post pairs, and requirements on ride needs.
"""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TZ = "America/Chicago"
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
VALLEY = [("Stillwater", 45.0564, -92.8060, 19), ("Hudson", 44.9747, -92.7569, 14), ("River Falls", 44.8614, -92.6238, 16),
          ("New Richmond", 45.1230, -92.5366, 10), ("Woodbury", 44.9239, -92.9594, 30), ("Forest Lake", 45.2789, -92.9852, 20),
          ("Osceola", 45.3205, -92.7049, 3), ("Prescott", 44.7488, -92.8024, 4), ("Baldwin", 44.9666, -92.3744, 4),
          ("Bayport", 45.0214, -92.7810, 3), ("Lake Elmo", 44.9958, -92.8791, 8), ("Hastings", 44.7433, -92.8524, 14)]
METROS = [("New York", 40.71, -74.01, 19), ("Los Angeles", 34.05, -118.24, 13), ("Chicago", 41.88, -87.63, 9),
          ("Dallas", 32.78, -96.80, 7), ("Houston", 29.76, -95.37, 7), ("Washington", 38.91, -77.04, 6),
          ("Philadelphia", 39.95, -75.17, 6), ("Miami", 25.76, -80.19, 6), ("Atlanta", 33.75, -84.39, 6),
          ("Boston", 42.36, -71.06, 5), ("Phoenix", 33.45, -112.07, 5), ("San Francisco", 37.77, -122.42, 5),
          ("Detroit", 42.33, -83.05, 4), ("Seattle", 47.61, -122.33, 4), ("Minneapolis", 44.98, -93.27, 4),
          ("San Diego", 32.72, -117.16, 3), ("Denver", 39.74, -104.99, 3), ("St. Louis", 38.63, -90.20, 3),
          ("Portland", 45.52, -122.68, 2.5), ("Pittsburgh", 40.44, -80.00, 2.4), ("Austin", 30.27, -97.74, 2.4),
          ("Kansas City", 39.10, -94.58, 2.2), ("Columbus", 39.96, -83.00, 2.1), ("Nashville", 36.16, -86.78, 2.0),
          ("Milwaukee", 43.04, -87.91, 1.6), ("Omaha", 41.26, -95.93, 1.0), ("Duluth", 46.79, -92.10, 0.3)]
# category -> topic -> (need wordings, offer wordings)
TOPICS = {
    "rides": {
        "medical": (["Ride to my doctor appointment", "Lift to the clinic please", "Transportation to a medical visit"],
                    ["Driving neighbors to medical appointments", "Clinic and doctor rides", "Rides to health appointments"]),
        "work": (["Ride to a job interview", "Lift to work on my first week", "Need transportation to my job"],
                 ["Rides to work and interviews", "Morning commute lifts", "Can drive you to a job interview"]),
        "meeting": (["Ride to my recovery meeting", "Lift to a support group", "Transportation to an AA meeting"],
                    ["Rides to recovery and support meetings", "Driving to group meetings", "Evening rides to meetings"]),
        "errands": (["Ride to the grocery store", "Lift for errands", "Trip to the pharmacy"],
                    ["Errand and grocery runs", "Pharmacy and shopping trips", "Weekend errand rides"]),
    },
    "food": {
        "groceries": (["Groceries for my family", "Help with groceries", "Bag of groceries"],
                      ["Grocery boxes to share", "Food shelf groceries", "Extra groceries to give"]),
        "meals": (["Hot meals after surgery", "Cooked dinners for a few days", "Prepared meals please"],
                  ["Home-cooked meals to share", "Dinners for neighbors", "Soup and casseroles"]),
        "baby": (["Baby formula", "Formula for my infant", "Diapers and baby food"],
                 ["Unopened infant formula", "Baby food to donate", "Diapers and formula to give"]),
    },
    "skills": {
        "resume": (["Help with my resume", "Resume and cover letter review", "Need a CV for job applications"],
                   ["Resume writing and interview practice", "Cover letter and resume coaching", "I help people write resumes"]),
        "computer": (["Learn to use email", "Help setting up my laptop", "Computer basics"],
                     ["Computer and email tutoring", "Tech help for beginners", "Phone and laptop lessons"]),
        "sewing": (["Learn to mend clothes", "Help hemming pants", "Sewing lessons"],
                   ["Sewing and mending lessons", "Clothing repair workshop", "Teaching basic sewing"]),
        "budget": (["Help making a budget", "Learn to manage money", "Budgeting help"],
                   ["Budgeting workshop", "Money management coaching", "Household budget planning"]),
    },
    "emergency_funds": {
        "rent": (["Short on rent", "Help covering rent", "Rent is due"], ["Pledge for rent emergencies", "Rent help fund", "Rent support"]),
        "utilities": (["Electric bill shutoff notice", "Heating bill help", "Utility bill"],
                      ["Utility bill pledge", "Help with heating and electric bills", "Utilities support"]),
    },
    "peer_support": {
        "recovery": (["Looking for a recovery group", "Sober support", "Peer to talk to about recovery"],
                     ["Peer-led recovery group", "Recovery mentor", "Sober support circle"]),
        "grief": (["Grief support", "Lost a loved one", "Bereavement group"], ["Grief circle", "Bereavement support", "Peer grief group"]),
        "parenting": (["Single parent support", "Parenting peers", "Support as a new mom"],
                      ["Parents support group", "Parenting circle", "Single parents meetup"]),
    },
    "household_items": {
        "furniture": (["Need a bed frame", "Looking for a table", "Need a dresser"],
                      ["Bed frame to give away", "Table and chairs", "Dresser in good shape"]),
        "winter": (["Winter coat", "Boots and gloves", "Warm clothes for kids"], ["Winter coats to donate", "Gloves hats and boots", "Kids winter jackets"]),
        "kitchen": (["Pots and pans", "Kitchen supplies for a new apartment", "Dishes and utensils"],
                    ["Kitchen starter kit", "Pots pans and dishes", "Utensils and plates"]),
    },
}
CATEGORY_WEIGHTS = {"rides": 30, "food": 20, "skills": 18, "emergency_funds": 8, "peer_support": 10, "household_items": 14}


def _jitter(rng, lat, lon, km):
    d, theta = abs(rng.gauss(0, km)), rng.uniform(0, 2 * math.pi)
    return (round(lat + d * math.cos(theta) / 111.2, 5),
            round(lon + d * math.sin(theta) / (111.2 * math.cos(math.radians(lat))), 5))


def generate(n_needs: int, n_offers: int, region: str = "valley", seed: int = 1, now: str | None = None,
             v2: bool = False, exclusions: bool = False):
    """Return (instance document, truth {post id: "category/topic"}); `v2`: a version 2 instance;
    `exclusions`: a version 2 instance with exclusions and requirements (`add_exclusions`)."""
    rng = random.Random(seed)
    zone = ZoneInfo(TZ)
    base = datetime.fromisoformat(now).replace(tzinfo=zone) if now else datetime(2026, 12, 1, 8, 0, tzinfo=zone)
    places = VALLEY if region == "valley" else METROS
    spread = 3.0 if region == "valley" else 25.0
    weights = [p[3] for p in places]
    cats = list(CATEGORY_WEIGHTS)
    cat_w = list(CATEGORY_WEIGHTS.values())
    owners = max(10, (n_needs + n_offers) // 3)
    truth = {}

    def iso(dt):
        return dt.isoformat(timespec="minutes")

    def local(day, hour, minute=0):
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)

    def pick(side):
        cat = rng.choices(cats, weights=cat_w)[0]
        topic = rng.choice(sorted(TOPICS[cat]))
        return cat, topic, rng.choice(TOPICS[cat][topic][side])

    def where():
        _, lat, lon, _ = rng.choices(places, weights=weights)[0]
        return _jitter(rng, lat, lon, spread)

    needs = []
    for i in range(n_needs):
        cat, topic, title = pick(0)
        lat, lon = where()
        when = []
        if rng.random() >= 0.25:
            for _ in range(rng.choice([1, 1, 2, 3])):
                start = local(base + timedelta(days=rng.randint(0, 13)), rng.choice([7, 9, 10, 12, 14, 16, 18]), rng.choice([0, 30]))
                when.append({"start": iso(start), "end": iso(start + timedelta(minutes=rng.choice([60, 90, 120, 180, 240])))})
        qty = rng.choice([50, 100, 200, 300]) if cat == "emergency_funds" else (rng.choice([1, 1, 2, 3]) if cat in ("food", "household_items") else 1)
        needs.append({"id": f"n{i}", "owner": f"u{rng.randrange(owners)}", "category": cat, "title": title, "details": "",
                      "lat": lat, "lon": lon, "max_km": rng.choice([None, None, None, 10, 20, 40]), "quantity": qty,
                      "urgency": rng.choice([0, 0, 1, 1, 2, 3]), "posted": iso(base - timedelta(hours=rng.randint(0, 24 * 21))),
                      "when": when, "duration_min": rng.choice([30, 60, 60, 90, 120])})
        truth[f"n{i}"] = f"{cat}/{topic}"
    offers = []
    for i in range(n_offers):
        cat, topic, title = pick(1)
        lat, lon = where()
        r = rng.random()
        when, weekly = [], []
        if 0.15 <= r < 0.65:
            for day in rng.sample(DAYS, rng.choice([1, 2, 3, 5])):
                h = rng.choice([6, 8, 9, 12, 13, 16, 17, 18, 20, 22])
                end = (h + rng.choice([2, 3, 4])) % 24  # 22:00 + 4 h runs past midnight
                weekly.append({"day": day, "start": f"{h:02d}:00", "end": f"{end:02d}:{rng.choice(['00', '30'])}"})
        elif r >= 0.65:
            for _ in range(rng.choice([1, 2, 3])):
                start = local(base + timedelta(days=rng.randint(0, 13)), rng.choice([6, 8, 10, 13, 15, 17]))
                when.append({"start": iso(start), "end": iso(start + timedelta(hours=rng.choice([2, 3, 4, 6, 8])))})
        cap = rng.choice([25, 50, 100, 500, 1000]) if cat == "emergency_funds" else (
            rng.choice([1, 1, 4, 8, 12]) if cat == "skills" else rng.choice([1, 1, 2, 3, 4]))
        offers.append({"id": f"o{i}", "owner": f"u{rng.randrange(owners)}", "category": cat, "title": title, "details": "",
                       "lat": lat, "lon": lon,
                       "radius_km": 10000.0 if cat == "emergency_funds" else float(rng.choice([5, 10, 15, 25, 40, 80])),
                       "capacity": cap, "when": when, "weekly": weekly, "tz": TZ})
        truth[f"o{i}"] = f"{cat}/{topic}"
    doc = {"format": "mutual-aid-matching/1", "now": iso(base), "top_k": 10, "needs": needs, "offers": offers}
    if v2:
        add_v2(doc, truth, random.Random(seed * 7919 + 17), base)
    if exclusions:
        add_exclusions(doc, random.Random(seed * 104729 + 31))
    return doc, truth


def add_exclusions(doc: dict, rng: random.Random) -> None:
    """Give an instance version 2's hard exclusions in place. About 1% of the owners (as many pairs)
    block the owner of an offer near one of their needs (a block or a bar); 1% of the needs exclude
    an offer of their category near them (a proposal rejected before); a fifth of the ride needs
    require a licence and insurance in date, which 60% of ride offers provide (20% a licence only)."""
    doc["format"] = "mutual-aid-matching/2"
    needs, by_cat = doc["needs"], {}
    for o in doc["offers"]:
        by_cat.setdefault(o["category"], []).append(o)

    def near(n):
        """The nearest of 50 random offers of the need's category (or None)."""
        pool = by_cat.get(n["category"])
        if not pool or not needs:
            return None
        return min((rng.choice(pool) for _ in range(50)),
                   key=lambda o: (o["lat"] - n["lat"]) ** 2 + (o["lon"] - n["lon"]) ** 2)

    owners = {p["owner"] for p in needs} | {p["owner"] for side in by_cat.values() for p in side}
    blocks, pairs = [], []
    for _ in range(max(1, len(owners) // 100) if needs else 0):
        n = rng.choice(needs)
        o = near(n)
        if o is not None:
            blocks.append([n["owner"], o["owner"]] if rng.random() < 0.5 else [o["owner"], n["owner"]])
    for _ in range(len(needs) // 100):
        n = rng.choice(needs)
        o = near(n)
        if o is not None:
            pairs.append([n["id"], o["id"]])
    doc["exclude_owners"], doc["exclude_pairs"] = blocks, pairs
    for n in needs:
        if n["category"] == "rides" and rng.random() < 0.2:
            n["requires"] = ["licence", "insurance"]
    for o in doc["offers"]:
        if o["category"] == "rides":
            r = rng.random()
            if r < 0.8:
                o["provides"] = ["licence", "insurance"] if r < 0.6 else ["licence"]


def add_v2(doc: dict, truth: dict, rng: random.Random, base: datetime) -> None:
    """Turn a version 1 instance into a version 2 one in place: repeating needs (about 5%), weekday
    commuters (about 8% of ride offers) and group offers (about 20% of skills and peer-support offers)."""
    zone = base.tzinfo
    doc["format"] = "mutual-aid-matching/2"
    monday = (base + timedelta(days=(7 - base.weekday()) % 7 or 7)).date()

    def at(day, minutes):
        """Local time `minutes` after midnight of `day`."""
        return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=zone)

    def span(oid, start, minutes):
        """An {id, start, end} object `minutes` long."""
        return {"id": oid, "start": start.isoformat(timespec="minutes"),
                "end": (start + timedelta(minutes=minutes)).isoformat(timespec="minutes")}

    for n in doc["needs"]:
        if rng.random() >= 0.05 or n["category"] == "emergency_funds":
            continue
        occ = []
        if n["category"] == "rides" and rng.random() < 0.6:  # a weekday commute, maybe with the way back
            n["duration_min"], clock, back = 30, rng.choice([450, 480]), rng.random() < 0.4
            for d in range(7 * rng.choice([2, 3, 4])):
                day = monday + timedelta(days=d)
                if day.weekday() < 5:
                    occ.append(span(f"{day}/out", at(day, clock), 45))
                    if back:
                        occ.append(dict(span(f"{day}/return", at(day, 1020), 45), leg="return"))
        else:  # weekly, same day and hour
            n["duration_min"] = min(n["duration_min"], 120)
            first, clock = monday + timedelta(days=rng.randrange(7)), rng.choice([540, 600, 840, 1080])
            for w in range(rng.choice([4, 6, 8])):
                day = first + timedelta(days=7 * w)
                occ.append(span(str(day), at(day, clock), 120))
        n.pop("when", None)
        n["occurrences"] = occ
    for o in doc["offers"]:
        if o["category"] == "rides" and rng.random() < 0.12:  # a commuter: every weekday or some, maybe evenings too
            days = DAYS[:5] if rng.random() < 0.3 else sorted(rng.sample(DAYS[:5], rng.choice([2, 3])), key=DAYS.index)
            evening = rng.random() < 0.5
            o["when"], o["weekly"] = [], [{"day": d, "start": start, "end": end} for d in days
                                          for start, end in [("06:30", "09:00")] + ([("16:30", "18:30")] if evening else [])]
        elif not o["when"] and not o["weekly"] and rng.random() < 0.9:  # few offers free at any time
            o["weekly"] = [{"day": d, "start": f"{h:02d}:00", "end": f"{h + rng.choice([3, 5]):02d}:00"}
                           for d in rng.sample(DAYS, rng.choice([2, 3, 4])) for h in [rng.choice([7, 9, 13])]]
        elif o["category"] in ("skills", "peer_support") and rng.random() < 0.2:
            o["when"], o["weekly"] = [], []
            o["sessions"] = [dict(span(f"s{i}", at(base.date() + timedelta(days=rng.randint(0, 20)),
                                                      rng.choice([600, 840, 1080])), rng.choice([60, 90, 120])),
                                  places=rng.choice([3, 6, 8, 12])) for i in range(rng.choice([1, 2, 3, 4]))]
