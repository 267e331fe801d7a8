"""No input gives a 5xx.

Property tests (hypothesis) walk `app.url_map`: every route with an id is requested with ids that
cannot exist, as anonymous, member, coordinator and admin; every form that can be posted is found
on the pages that show it and posted with hostile values in its fields (NUL and other control
characters, huge numbers, sNaN, ², year 9999, 25:61, very long text...). Then one example per
class of bad value: it gets a sentence beside its field, what was typed is kept, nothing is saved.
"""
import itertools
import re
import time
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from app.extensions import db
from app.forms import CONTROL_MESSAGE, PlainForm, SafeTextMixin
from app.ids import MAX_ID, get_by_id, parse_id
from app.models import FundRequest, Match, Pledge, Post, User
from app.services import FieldError, NotAllowed, accounts, digests
from app.services import fund as fund_service
from app.services import matches as match_service
from app.services import match_notices
from tests.conftest import csrf_token, login

ZONE = ZoneInfo("America/Chicago")
TODAY = datetime.now(ZONE).date()
SOON = (TODAY + timedelta(days=3)).isoformat()

FUZZ = dict(deadline=None, derandomize=True, database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Ids that cannot be a row: 404 on every <int:...> route, for everybody.
IMPOSSIBLE_IDS = ["0", "-1", str(2**31), str(2**63), "99999999999999999999", "9" * 5000, "²", "\u0663", "1e3", "0x1f"]

HOSTILE_VALUES = [
    "", " ", "   ", "\t", "\r\n", "\x00", "Pat\x00Lee", "a\x00@example.org", "\x01\x02\x1b[31m", "\x1f", "\x7f",
    "²", "\u0663", "1_000", "sNaN", "NaN", "-nan", "Infinity", "-inf", "1e999", "-1e999", "-0", "0", "-1",
    "0.0001", "12.345", "$1,000.00", "9" * 4000, "1" * 5000, str(2**31), str(2**63), "99999999999999999999",
    "9999-12-31", "0001-01-01", "10000-01-01", "2024-02-30", "1999-12-31", "2101-01-01", "25:61", "24:00",
    "23:59:60", "-01:00", "x" * 5000, "\u202egnp.exe", "🙂" * 50, "Ω≈ç√∫", "<script>alert(1)</script>",
    "' OR 1=1 --", "%00", "../../etc/passwd", "\ufeff", "\u00a0", "null", "true",
]
_controlish = st.characters(codec="utf-8", exclude_categories=["Cs"])
hostile_value = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.text(_controlish, max_size=40),
    st.text(st.sampled_from("\x00\x01\x08\x0b\x1c\x1f\x7f \t\r\n0123456789.-e²"), min_size=1, max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=4000, max_value=6000).map(lambda n: "9" * n),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 99), st.integers(0, 99)),
)


def impossible_id_strategy():
    def cannot_exist(text: str) -> bool:
        # Leave out ids a row might have (the world below has ids well under 1,000).
        return not (text.isdecimal() and len(text) < 10 and 0 < int(text) < MAX_ID)

    return st.one_of(
        st.sampled_from(IMPOSSIBLE_IDS),
        st.integers(min_value=MAX_ID + 1, max_value=10**40).map(str),
        st.integers(max_value=0, min_value=-(10**20)).map(str),
        st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=25).filter(cannot_exist),
        st.integers(min_value=4301, max_value=6000).map(lambda n: "7" * n),
    )


# The world the requests run in -----------------------------------------------------------------

class World:
    pass


@pytest.fixture
def world(app, make_user, make_post):
    from app.matches.views import match_url

    w = World()
    w.admin = make_user("admin", name="Ada Admin")
    w.coordinator = make_user("coordinator", name="Cory Coord")
    w.coordinator2 = make_user("coordinator", name="Dee Coord")
    w.member = make_user(name="Mel Member")
    w.helper = make_user(name="Hal Helper", zip_code="54016")
    w.resident = make_user("resident", name="Rae Resident")
    w.resetter = make_user(name="Reese Reset")
    w.need = make_post(w.member, category="rides", title="Ride to the clinic")
    w.offer = make_post(w.helper, kind="offer", category="rides", title="Rides to the clinic", radius_miles=25.0)
    w.need2 = make_post(w.member, category="food", title="Groceries this week", destination_kind=None)
    w.offer2 = make_post(w.helper, kind="offer", category="food", title="Groceries and meals", radius_miles=25.0)
    matches = {m.need_id: m for m in db.session.scalars(select(Match))}
    assert w.need.id in matches and w.need2.id in matches, "the engine should have proposed both pairs"
    w.proposed = matches[w.need.id]
    with app.test_request_context():
        w.approved = match_service.approve(w.coordinator, matches[w.need2.id].id, match_url)
    w.tx = fund_service.record_receipt(w.coordinator, "1000", "check", TODAY, None)
    w.pledge = fund_service.pledge(w.member, "25", "monthly")
    w.pending_request = fund_service.create_request(w.resident, w.resident, "100", "rent", "Valley Apartments")
    w.approved_request = fund_service.create_request(w.resident, w.resident, "120", "utilities", "Power Co")
    fund_service.approve(w.coordinator, w.approved_request.id)
    fund_service.approve(w.coordinator2, w.approved_request.id)
    sub = digests.subscription_for(w.member)
    db.session.commit()
    w.tokens = {
        "auth.reset_password": accounts.make_reset_token(w.resetter),
        "matches.outcome_by_link": match_notices.outcome_token(w.approved, w.member.id),
        "main.unsubscribe": digests.unsubscribe_token(sub),
    }
    if hasattr(accounts, "make_confirm_token"):
        w.tokens["auth.confirm"] = accounts.make_confirm_token(make_user(name="Una Confirmed", confirmed=False))
    w.ids = {"post_id": [w.need.id, w.offer.id], "match_id": [w.proposed.id, w.approved.id],
             "user_id": [w.resident.id], "need_id": [w.need.id],
             "request_id": [w.pending_request.id, w.approved_request.id], "transaction_id": [w.tx.id]}
    return w


_addresses = itertools.count(1)


class Browser:
    """One person's test client. Each request comes from its own address so that the rate limits
    on login, sign-up and reset (which answer 429, correctly) do not hide what lies behind them."""

    def __init__(self, app, role, user=None):
        self.app, self.role, self.user = app, role, user
        self.client = app.test_client()
        if user is not None:
            response = login(self.client, user.email)
            assert response.status_code == 302, (role, response.status_code)
        self.token = csrf_token(self.client, "/auth/login" if user is None else "/account/")

    def fresh(self) -> "Browser":
        """Anonymous visitors start every example with an empty cookie jar (a sign-up or login
        that works must not turn the next example into a logged-in one)."""
        return Browser(self.app, self.role) if self.user is None else self

    def open(self, method, url, data=None):
        n = next(_addresses)
        return self.client.open(url, method=method, data=data,
                                environ_overrides={"REMOTE_ADDR": f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250 + 1}"})


@pytest.fixture
def browsers(app, world):
    return {"anonymous": Browser(app, "anonymous"), "member": Browser(app, "member", world.member),
            "helper": Browser(app, "helper", world.helper), "resident": Browser(app, "resident", world.resident),
            "coordinator": Browser(app, "coordinator", world.coordinator), "admin": Browser(app, "admin", world.admin)}


def int_rules(app):
    return sorted((r for r in app.url_map.iter_rules()
                   if any(isinstance(c, IntegerConverter) for c in r._converters.values())), key=lambda r: r.rule)


def path_with(rule, raw: str) -> str:
    return re.sub(r"<int:[^>]+>", quote(raw, safe="-"), rule.rule)


def methods_of(rule):
    return sorted(m for m in rule.methods if m in ("GET", "POST"))


# (a) Ids in URLs -------------------------------------------------------------------------------

def test_every_int_route_answers_404_for_ids_that_cannot_exist(app, world, browsers):
    """The app's int converter takes 1..2**31-1 in ASCII digits only: anything else is no route."""
    rules = int_rules(app)
    assert len(rules) >= 20
    wrong = []
    for role in ("anonymous", "member", "coordinator", "admin"):
        b = browsers[role]
        for rule in rules:
            for raw in IMPOSSIBLE_IDS:
                for method in methods_of(rule):
                    response = b.open(method, path_with(rule, raw), data={"csrf_token": b.token} if method == "POST" else None)
                    if response.status_code != 404:
                        wrong.append((role, method, path_with(rule, raw)[:60], response.status_code))
    assert not wrong, wrong[:20]


@settings(max_examples=60, **FUZZ)
@given(data=st.data())
def test_hostile_ids_never_give_a_server_error(app, world, browsers, data):
    rules = int_rules(app)
    rule = data.draw(st.sampled_from(rules), label="rule")
    raw = data.draw(impossible_id_strategy(), label="id")
    role = data.draw(st.sampled_from(["anonymous", "member", "coordinator", "admin"]), label="role")
    method = data.draw(st.sampled_from(methods_of(rule)), label="method")
    b = browsers[role]
    response = b.open(method, path_with(rule, raw), data={"csrf_token": b.token} if method == "POST" else None)
    assert response.status_code < 500, (role, method, rule.rule, raw[:40])


@pytest.mark.parametrize("path", ["/posts/99999999999999999999", "/matches/99999999999999999999",
                                  "/fund/requests/99999999999999999999", "/posts/2147483648", "/posts/9223372036854775808",
                                  "/coordinate/residents/2147483648", "/posts/%C2%B2"])
def test_an_id_too_large_for_the_database_is_404(client, make_user, login_as, path):
    login_as(make_user("admin"))
    assert client.get(path).status_code == 404


def test_the_largest_id_the_database_holds_still_reaches_the_view(client, make_user, login_as):
    login_as(make_user("admin"))
    assert client.get(f"/posts/{MAX_ID}").status_code == 404  # the view's "no such post"
    assert client.get(f"/posts/{MAX_ID + 1}").status_code == 404  # no route


# (b) Every form field --------------------------------------------------------------------------

class FormParser(HTMLParser):
    """The POST forms of a page: action, and every named control with its value as shown."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "fields": {}, "buttons": []}
            self.forms.append(self._form)
        elif tag == "option" and self._form is not None and self._select:
            if "selected" in a or self._form["fields"].get(self._select) is None:
                self._form["fields"][self._select] = a.get("value", "")
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                self._form["buttons"].append((a["name"], a.get("value") or ""))
            elif kind in ("checkbox", "radio"):
                if "checked" in a or a["name"] not in self._form["fields"]:
                    self._form["fields"][a["name"]] = (a.get("value") or "y") if ("checked" in a or kind == "radio") else None
            else:
                self._form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "button":
            self._form["buttons"].append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select = a["name"]
            self._form["fields"].setdefault(a["name"], None)
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""

    def handle_data(self, text):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += text

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


# Valid values, by field name (or the part after the last "-"), so that each example spoils only
# the fields it chose and the rest of the form gets as far as the service.
VALID = {
    "windows-0-day": SOON, "windows-0-start": "09:00", "windows-0-end": "11:00",
    "weekly-0-day": "1", "weekly-0-start": "09:00", "weekly-0-end": "12:00",
    "appointment_day": SOON, "appointment_time": "10:30", "category": "rides", "title": "Ride to the clinic",
    "details": "Wheelchair friendly\nplease", "zip_code": "54016", "street_address": "1 Main St", "quantity": "1",
    "radius_miles": "10", "destination_kind": "medical", "pickup_area": "North Hudson", "amount": "25",
    "payee": "Valley Apartments", "purpose": "rent", "note": "Thank you", "reason": "Entered twice",
    "reference": "chk 12", "received_on": TODAY.isoformat(), "paid_on": TODAY.isoformat(), "method": "check",
    "name": "Pat Example", "email": "fuzz@example.org", "password": "correct horse battery",
    "confirm": "correct horse battery", "current_password": "correct horse battery",
    "new_password": "correct horse battery", "phone": "555 0100", "body": "Called her today.", "happened": "yes",
    "feedback": "It went well", "units": "1", "q": "ride", "frequency": "monthly",
}
SKIP_ENDPOINTS = {"auth.logout"}  # ends the session the rest of the run needs; it reads no field
LAST_ENDPOINTS = {"posts.withdraw", "posts.fulfilled", "coord.approve", "coord.swap", "coord.reject", "matches.answer",
                  "fund.cancel", "fund.approve", "fund.decline", "fund.pay", "fund.reverse", "admin.set_role",
                  "coord.mark_resident", "account.password"}
ROLE_ORDER = ("helper", "member", "resident", "coordinator", "admin", "anonymous")


def get_pages(app, world):
    """Every GET route, with the world's ids and signed tokens filled in (and both kinds of post)."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        choices = []
        for name in rule.arguments:
            if name in world.ids:
                choices.append([(name, v) for v in world.ids[name]])
            elif name == "token" and rule.endpoint in world.tokens:
                choices.append([(name, world.tokens[rule.endpoint])])
            else:
                choices = None
                break
        if choices is None:
            continue
        for combo in itertools.product(*choices):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m, c=dict(combo): str(c[m.group(1)]), rule.rule)
            pages.append(path)
            if rule.rule.endswith("/new"):
                pages += [path + "?kind=need", path + "?kind=offer", f"{path}?for={world.resident.id}"]
    return sorted(set(pages))


def discover_targets(app, world, browsers):
    """Each form that can be posted, as (role, url, endpoint, fields with their shown values)."""
    adapter = app.url_map.bind("localhost")
    found = {}
    for role in ROLE_ORDER:
        b = browsers[role]
        for page in get_pages(app, world):
            response = b.open("GET", page)
            if response.status_code != 200 or "text/html" not in response.content_type:
                continue
            parser = FormParser()
            parser.feed(response.get_data(as_text=True))
            for form in parser.forms:
                if form["method"] != "post":
                    continue
                url = form["action"] or page
                try:
                    endpoint, _args = adapter.match(urlsplit(url).path, method="POST")
                except Exception:
                    continue
                fields = {k: v for k, v in form["fields"].items() if k != "csrf_token"}
                button = next(((n, v) for n, v in form["buttons"] if not n.startswith("add_")), None)
                if button:
                    fields.setdefault(button[0], button[1])
                key = (endpoint, tuple(sorted(fields)))
                if endpoint not in SKIP_ENDPOINTS and key not in found:
                    found[key] = (role, url, endpoint, fields)
    return sorted(found.values(), key=lambda t: (t[2] in LAST_ENDPOINTS, t[2], t[1]))


def valid_value(name, shown):
    if name in VALID:
        return VALID[name]
    tail = name.rsplit("-", 1)[-1]
    if shown not in (None, ""):
        return shown
    return VALID.get(tail, shown)


DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def classic_cases(base, names):
    """One explicit example per field and class, whatever the random draws: a NUL or a blank in
    text, a signaling NaN and 5,000 digits in a number, the year 9999 late in the evening in a
    date (with its row's times, if it has them)."""
    cases = []
    for name in names:
        valid = base.get(name) or ""
        if DATE_RE.fullmatch(valid):
            row = name.rsplit("-", 1)[0] + "-" if "-" in name else ""
            late = {f"{row}start": "23:00", f"{row}end": "23:30"} if row else {"appointment_time": "23:30"}
            cases.append({name: "9999-12-31", **{k: v for k, v in late.items() if k in base}})
        elif re.fullmatch(r"-?\d+(\.\d+)?", valid):
            cases += [{name: "sNaN"}, {name: "9" * 5000}]
        else:
            cases += [{name: "a\x00b"}, {name: " "}]
    return cases


def test_every_form_field_survives_hostile_values(app, world, browsers):
    targets = discover_targets(app, world, browsers)
    endpoints = {t[2] for t in targets}
    # Every form of the site was found on some page (so a new form is fuzzed without editing this test).
    for expected in ("auth.signup", "auth.login", "auth.reset_request", "auth.reset_password", "account.profile",
                     "account.password", "account.digest", "posts.new", "posts.edit", "posts.help_", "coord.new_resident",
                     "coord.post_for_resident", "coord.add_note", "coord.manual_match", "coord.reject",
                     "fund.pledge", "fund.receipt", "fund.new_request", "fund.decline", "fund.pay",
                     "matches.outcome_by_link", "admin.set_role", "coord.mark_resident"):
        assert expected in endpoints, (expected, sorted(endpoints))
    started = time.monotonic()
    failures = []
    for role, url, endpoint, fields in targets:
        names = sorted(fields)
        base = {name: valid_value(name, shown) for name, shown in fields.items()}
        base = {k: v for k, v in base.items() if v is not None}

        @settings(max_examples=20 if names else 3, **FUZZ)
        @given(spoiled=st.dictionaries(st.sampled_from(names), hostile_value, min_size=1, max_size=3) if names
               else st.just({}))
        def post_it(spoiled):
            b = browsers[role].fresh()
            data = dict(base, **spoiled, csrf_token=b.token)
            response = b.open("POST", url, data=data)
            assert response.status_code < 500, (role, endpoint, url, {k: v[:40] for k, v in spoiled.items()})

        for case in classic_cases(base, names):
            post_it = example(spoiled=case)(post_it)
        try:
            post_it()
        except Exception as err:  # go on with the other forms, then report every one that failed
            failures.append(f"{endpoint} as {role} at {url}: {type(err).__name__}: {str(err)[:1500]}")
    assert not failures, "\n\n".join(failures)
    assert len(targets) >= 25, [t[2] for t in targets]
    print(f"\n{len(targets)} forms fuzzed in {time.monotonic() - started:.1f} s")


DIRECT_ARGS = ("q", "page", "for", "kind", "category", "next", "action", "sort", "near", "within", "urgency")


def test_query_parameters_survive_hostile_values(app, world, browsers):
    """Every GET page, as an admin (who may see them all) or, for the log-in pages, anonymously:
    the filters of its search forms and the parameters views read directly get hostile values."""
    failures = []
    for page in get_pages(app, world):
        path = urlsplit(page).path
        b = browsers["anonymous" if path.startswith("/auth/") else "admin"]

        @settings(max_examples=8, **FUZZ)
        @given(params=st.dictionaries(st.sampled_from(DIRECT_ARGS), hostile_value, min_size=1, max_size=4))
        @example(params={"q": "a\x00b", "action": "a\x00b"})
        @example(params={"page": "9" * 30, "for": str(2**63)})
        @example(params={"page": "9" * 5000, "for": "9" * 5000, "within": "sNaN", "urgency": "\u0663"})
        def get_it(params):
            query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())
            response = b.open("GET", f"{path}?{query}")
            assert response.status_code < 500, (path, params)

        try:
            get_it()
        except Exception as err:
            failures.append(f"{path}: {type(err).__name__}: {str(err)[:1000]}")
    assert not failures, "\n\n".join(failures)


def test_every_form_inherits_the_shared_checks():
    """A form added later cannot skip the control-character check by inheriting FlaskForm."""
    import importlib
    import pkgutil

    import app as package
    from wtforms import Form

    for info in pkgutil.walk_packages(package.__path__, "app."):
        if info.name.endswith(".forms"):
            importlib.import_module(info.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(Form) if c.__module__.startswith("app.")]
    assert len(ours) >= 20
    assert [c.__qualname__ for c in ours if not issubclass(c, SafeTextMixin)] == []


# One example per class -------------------------------------------------------------------------

def post_form(client, url, data, page=None):
    return client.post(url, data=dict(data, csrf_token=csrf_token(client, page or url)))


def offer_form(**fields):
    data = {"category": "skills", "title": "Resume help", "zip_code": "55082", "quantity": "3", "radius_miles": "15",
            "offer_format": "individual", "weekly-0-day": "1", "weekly-0-start": "09:00", "weekly-0-end": "12:00"}
    return dict(data, **fields)


def need_form(**fields):
    data = {"category": "food", "title": "Groceries please", "zip_code": "54016", "quantity": "1", "urgency": "0",
            "duration_min": "60", "windows-0-day": SOON, "windows-0-start": "09:00", "windows-0-end": "11:00"}
    return dict(data, **fields)


def posts_count():
    return db.session.scalar(select(func.count()).select_from(Post))


def field_error(html, field_id):
    match = re.search(rf'id="{re.escape(field_id)}-err">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize("typed", ["sNaN", "NaN", "Infinity", "-inf"])
def test_a_radius_that_is_not_a_number_is_refused_beside_the_field_and_kept(client, make_user, login_as, typed):
    login_as(make_user())
    response = post_form(client, "/posts/new?kind=offer", offer_form(radius_miles=typed))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a number, like 10 or 12.5." in field_error(html, "radius_miles")
    assert f'value="{typed}"' in html and 'value="Resume help"' in html
    assert posts_count() == 0


@pytest.mark.parametrize("typed", ["9" * 400, "1" * 16, "1_000", "²", "\u0663", "1e3"])
def test_a_quantity_that_is_not_a_plain_whole_number_is_refused_beside_the_field(client, make_user, login_as, typed):
    login_as(make_user())
    response = post_form(client, "/posts/new?kind=offer", offer_form(quantity=typed))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "number" in field_error(html, "quantity")
    assert f'value="{typed}"' in html
    assert posts_count() == 0


@pytest.mark.parametrize("day", [" ", "  ", "\t"])
def test_a_weekly_slot_with_a_blank_day_is_refused_beside_it(client, make_user, login_as, day):
    login_as(make_user())
    response = post_form(client, "/posts/new?kind=offer", offer_form(**{"weekly-0-day": day}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and field_error(html, "weekly-0-day")
    assert posts_count() == 0


def test_empty_weekly_rows_are_still_fine(client, make_user, login_as):
    login_as(make_user())
    data = offer_form(**{"weekly-1-day": "", "weekly-1-start": "", "weekly-1-end": ""})
    assert post_form(client, "/posts/new?kind=offer", data).status_code == 302


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2101-01-01", "1999-12-31"])
def test_a_window_date_out_of_range_is_refused_beside_the_field(client, make_user, login_as, day):
    login_as(make_user())
    response = post_form(client, "/posts/new?kind=need", need_form(**{"windows-0-day": day, "windows-0-start": "23:00",
                                                                      "windows-0-end": "23:30"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a date between 2000 and 2100." in field_error(html, "windows-0-day")
    assert f'value="{day}"' in html
    assert posts_count() == 0


def test_a_window_years_ahead_is_refused(client, make_user, login_as):
    login_as(make_user())
    far = (TODAY + timedelta(days=3 * 365)).isoformat()
    response = post_form(client, "/posts/new?kind=need", need_form(**{"windows-0-day": far}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "within the next two years" in field_error(html, "windows-0-end")
    assert posts_count() == 0


def test_a_window_already_past_is_refused_beside_it(client, make_user, login_as):
    login_as(make_user())
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    response = post_form(client, "/posts/new?kind=need", need_form(**{"windows-0-day": yesterday}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "already passed" in field_error(html, "windows-0-end")
    assert f'value="{yesterday}"' in html
    assert posts_count() == 0


def test_an_appointment_in_the_past_is_refused_beside_it(client, make_user, login_as):
    login_as(make_user())
    last_week = (TODAY - timedelta(days=7)).isoformat()
    data = need_form(category="rides", destination_kind="medical", appointment_day=last_week, appointment_time="10:00")
    response = post_form(client, "/posts/new?kind=need", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "appointment time has already passed" in field_error(html, "appointment_day")
    assert f'value="{last_week}"' in html
    assert posts_count() == 0


def test_editing_keeps_untouched_windows_even_once_they_have_passed(client, make_user, make_post, login_as):
    from app.models import PostWindow

    owner = make_user()
    start = datetime.combine(TODAY + timedelta(days=2), datetime.min.time()).replace(hour=9)
    post = make_post(owner, category="food", title="Groceries", flexible=False,
                     windows=[(start, start + timedelta(hours=2)), (start + timedelta(days=1), start + timedelta(days=1, hours=2))])
    login_as(owner)
    url = f"/posts/{post.id}/edit"
    page = client.get(url).get_data(as_text=True)
    fields = FormParser()
    fields.feed(page)
    data = {k: v for k, v in next(f for f in fields.forms if f["method"] == "post" and f["action"] in ("", url))["fields"].items() if v is not None}
    response = client.post(url, data=dict(data, title="Groceries, please"))  # future windows
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>(.*?)<', response.get_data(as_text=True))
    # A week on, the first window has gone by; an edit that leaves it alone still saves, keeping it.
    window = db.session.scalar(select(PostWindow).where(PostWindow.post_id == post.id).order_by(PostWindow.start_at))
    window.start_at -= timedelta(days=7)
    window.end_at -= timedelta(days=7)
    db.session.commit()
    fields = FormParser()
    fields.feed(client.get(url).get_data(as_text=True))
    data = {k: v for k, v in next(f for f in fields.forms if f["method"] == "post" and f["action"] in ("", url))["fields"].items() if v is not None}
    response = client.post(url, data=dict(data, title="Groceries, thanks"))
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>(.*?)<', response.get_data(as_text=True))
    db.session.expire_all()
    saved = db.session.get(Post, post.id)
    assert saved.title == "Groceries, thanks" and len(saved.windows) == 2


@pytest.mark.parametrize("field,value", [("name", "Pat\x00Lee"), ("name", "Pat\x1fLee"), ("zip_code", "54016\x00"),
                                         ("phone", "555\x000100")])
def test_nul_and_control_characters_in_the_profile_are_refused_beside_the_field(client, make_user, login_as, field, value):
    user = make_user(name="Kept Name")
    login_as(user)
    data = {"name": "Kept Name", "zip_code": "54016", "phone": "", "contact_method": "email", field: value}
    response = post_form(client, "/account/", data)
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 422) and f'value="{value}"' in html  # what was typed is kept
    assert CONTROL_MESSAGE.replace("'", "&#39;") in field_error(html, field)
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Kept Name"


def test_nul_in_a_name_or_email_at_sign_up_is_refused(client):
    for field, value in (("name", "Pat\x00Lee"), ("email", "pat\x00@example.org")):
        data = {"name": "Pat Lee", "email": "pat@example.org", "password": "a long enough pw", "confirm": "a long enough pw",
                field: value}
        response = post_form(client, "/auth/signup", data)
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 422) and "Pat Lee" in html or "pat@example.org" in html
        assert CONTROL_MESSAGE.replace("'", "&#39;") in field_error(html, field), field
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_nul_in_the_login_email_is_refused_not_queried(client, make_user):
    make_user(email="kim@example.org")
    response = post_form(client, "/auth/login", {"email": "kim\x00@example.org", "password": "correct horse battery"})
    assert response.status_code in (200, 422)
    assert CONTROL_MESSAGE.replace("'", "&#39;") in field_error(response.get_data(as_text=True), "email")


def test_a_textarea_keeps_tabs_and_line_breaks_but_not_nul(client, make_user, login_as):
    login_as(make_user())
    ok = post_form(client, "/posts/new?kind=need", need_form(details="Line one\r\n\tLine two"))
    assert ok.status_code == 302
    bad = post_form(client, "/posts/new?kind=need", need_form(details="Line one\x00"))
    assert bad.status_code == 422
    assert CONTROL_MESSAGE.replace("'", "&#39;") in field_error(bad.get_data(as_text=True), "details")
    assert posts_count() == 1


def test_nul_in_a_resident_name_is_refused_beside_it(client, make_user, login_as):
    login_as(make_user("coordinator"))
    response = post_form(client, "/coordinate/residents/new", {"name": "Jo\x00", "zip_code": "55082"})
    assert response.status_code in (200, 422)
    assert CONTROL_MESSAGE.replace("'", "&#39;") in field_error(response.get_data(as_text=True), "name")
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "resident")) == 0


@pytest.mark.parametrize("url", ["/coordinate/members?q=a%00b", "/admin/users?q=a%00b", "/admin/audit?action=a%00b",
                                 "/admin/audit?page=99999999999999999999999", "/admin/audit?page=%C2%B2", "/browse?page=" + "9" * 400,
                                 "/browse?q=a%00b", "/browse?page=99999999999999999999999", "/browse?near=5%00"])
def test_query_parameters_read_directly_never_fail(client, make_user, login_as, url):
    login_as(make_user("admin"))
    response = client.get(url)
    assert response.status_code == 200
    if "q=a%00b" in url and not url.startswith("/browse"):
        assert CONTROL_MESSAGE.replace("'", "&#39;") in response.get_data(as_text=True)


def test_manual_match_search_and_offer_ids_that_cannot_exist(client, make_user, make_post, login_as):
    member, helper = make_user(), make_user()
    need = make_post(member, category="food", title="Groceries")
    make_post(helper, kind="offer", category="food", title="Groceries run")
    login_as(make_user("coordinator"))
    page = client.get(f"/coordinate/needs/{need.id}/match?q=gro%00")
    assert page.status_code == 200 and CONTROL_MESSAGE.replace("'", "&#39;") in page.get_data(as_text=True)
    url = f"/coordinate/needs/{need.id}/match"
    for offer_id in ("²", "99999999999999999999", str(2**31), "0", "-1", "\x00"):
        response = client.post(url, data={"csrf_token": csrf_token(client, url), "offer_id": offer_id, "units": "1"})
        assert response.status_code in (403, 404, 422), offer_id
    assert db.session.scalar(select(func.count()).select_from(Match).where(Match.source == "manual")) == 0


def test_an_offer_id_that_cannot_exist_is_refused_beside_the_field(client, make_user, make_post, login_as):
    member, helper = make_user(), make_user()
    need = make_post(member, category="food", title="Groceries")
    make_post(helper, kind="offer", category="food", title="Groceries run")
    login_as(helper)
    for offer_id in ("99999999999999999999", str(2**31), "²"):
        response = post_form(client, f"/posts/{need.id}/help", {"offer_id": offer_id, "note": "kept note"}, page=f"/posts/{need.id}")
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and field_error(html, "offer_id"), offer_id
        assert "kept note" in html


def test_a_pledge_id_that_cannot_exist_is_refused_beside_the_field(client, make_user, login_as):
    login_as(make_user("coordinator"))
    for pledge_id in ("99999999999999999999", str(2**31), "²", "\x00"):
        response = post_form(client, "/fund/receipts", {"amount": "25", "method": "check", "received_on": TODAY.isoformat(),
                                                        "pledge_id": pledge_id, "reference": "envelope 3"}, page="/fund/manage")
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and field_error(html, "pledge_id"), pledge_id
        assert 'value="envelope 3"' in html


def test_a_receipt_dated_year_one_is_refused_beside_the_field(client, make_user, login_as):
    login_as(make_user("coordinator"))
    response = post_form(client, "/fund/receipts", {"amount": "25", "method": "check", "received_on": "0001-01-01",
                                                    "pledge_id": "0", "reference": "envelope 3"}, page="/fund/manage")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "between 2000 and 2100" in field_error(html, "received_on")


@pytest.mark.parametrize("amount", ["9" * 5000, "1" * 4301, "9" * 25])
def test_an_amount_of_thousands_of_digits_is_refused_beside_the_field_and_kept(client, make_user, login_as, amount):
    login_as(make_user())
    response = post_form(client, "/fund/pledges", {"amount": amount, "frequency": "monthly"}, page="/fund/")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "more than this fund handles" in field_error(html, "amount")
    assert f'value="{amount}"' in html
    assert db.session.scalar(select(Pledge)) is None


def test_fund_request_for_an_id_that_cannot_exist_is_404(client, make_user, login_as):
    login_as(make_user("coordinator"))
    for raw in ("99999999999999999999", str(2**31), "²", "-1", "abc"):
        assert client.get(f"/fund/requests/new?for={quote(raw)}").status_code == 404, raw


# The services are safe on their own too ------------------------------------------------------

def test_parse_id_accepts_only_ids_a_row_can_have():
    assert [parse_id(v) for v in ("1", " 12 ", MAX_ID, str(MAX_ID))] == [1, 12, MAX_ID, MAX_ID]
    for bad in ("", "0", "-1", "²", "\u0663", "1_000", "1e3", str(MAX_ID + 1), "9" * 5000, None, True, 2**63, 1.0):
        assert parse_id(bad) is None, bad


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**20])
def test_services_treat_ids_that_cannot_exist_as_missing(app, make_user, make_post, huge):
    coordinator, helper, member = make_user("coordinator"), make_user(), make_user()
    need = make_post(member, category="food", title="Groceries")
    make_post(helper, kind="offer", category="food", title="Groceries run")
    proposal = db.session.scalar(select(Match))
    assert get_by_id(Post, huge) is None
    with pytest.raises(NotAllowed):
        match_service.get_match(huge)
    with pytest.raises(FieldError):
        match_service.volunteer(helper, need.id, huge, "")
    with pytest.raises(NotAllowed):
        match_service.volunteer(helper, huge, 1, "")
    with pytest.raises(NotAllowed):
        match_service.manual_match(coordinator, need.id, huge, None, lambda m: "")
    if proposal is not None:
        with pytest.raises(FieldError):
            match_service.swap(coordinator, proposal.id, huge)
    with pytest.raises(FieldError):
        fund_service.record_receipt(coordinator, "25", "check", TODAY, huge)
    with pytest.raises(NotAllowed):
        fund_service.approve(coordinator, huge)
    with pytest.raises(NotAllowed):
        fund_service.reverse(coordinator, huge, "typo")
    assert db.session.scalar(select(func.count()).select_from(FundRequest)) == 0


def test_plain_forms_check_text_too(app):
    from wtforms import StringField
    from werkzeug.datastructures import MultiDict

    class Filters(PlainForm):
        q = StringField()

    assert Filters(MultiDict({"q": "soup"})).validate()
    form = Filters(MultiDict({"q": "so\x00up"}))
    assert not form.validate() and form.q.errors == [CONTROL_MESSAGE]
