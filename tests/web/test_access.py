"""Every route is denied unless deliberately public; GET never changes state."""
import re

from tests.conftest import csrf_token

PUBLIC = {"main.index", "main.privacy", "posts.browse", "posts.detail", "auth.signup", "auth.login",
          "auth.reset_request", "auth.reset_password", "auth.confirm", "main.unsubscribe", "matches.outcome_by_link",
          "static",
          # Operations: /readyz details and /metrics check the caller themselves (admin or OPS_ALLOWED_IPS).
          "ops.healthz", "ops.readyz", "ops.metrics",
          "i18n.switch",  # the language switcher, for visitors too (a CSRF-checked POST)
          # Group sessions are found like posts; the calendar feed is public but behind a secret token.
          "groups.index", "groups.session", "calendar.feed",
          "membership.join",  # the sign-up form behind an invitation link (signed, single use)
          "imports.welcome",  # an imported member chooses their password (signed link, single use)
          # Texts: the signed link a text carries to someone who cannot log in; the provider's
          # webhooks, which check the provider's signature themselves (403 without it).
          "texts.match_link", "texts.inbound", "texts.status",
          "reports.impact"}  # the public impact page: small counts suppressed (members-only with the board)


# The JSON API authenticates by token itself (app/api/auth.py: 401 without one, and a session
# cookie never counts), so the login redirect lets its requests through; its description and
# docs page describe the API and hold no one's data. tests/api/ holds the API's own route matrix.
API_WRITES = {"api_posts.create", "api_posts.withdraw", "api_posts.help_", "api_matches.answer",
              "api_groups.join", "api_groups.leave", "api_coord.approve", "api_coord.reject",
              "api_posts.edit", "api_posts.fulfilled", "api_posts.renew"}
PUBLIC |= API_WRITES | {"api_posts.browse", "api_posts.detail", "api_posts.mine", "api_matches.mine",
                        "api_matches.detail", "api_groups.sessions", "api_coord.queue",
                        "api_docs.openapi_json", "api_docs.docs", "api_docs.asset"}


def _url(rule):
    return re.sub(r"<(?:int:)?([^>]+)>", lambda m: "1" if "int" in m.group(0) else "x", rule.rule)


def test_the_public_routes_are_exactly_the_deliberate_ones(app):
    public = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint == "static" or getattr(app.view_functions[rule.endpoint], "is_public", False)}
    assert public == PUBLIC


def test_every_other_route_sends_anonymous_visitors_to_login(app, client):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        url = _url(rule)
        method = "GET" if "GET" in rule.methods else "POST"
        data = {"csrf_token": csrf_token(client)} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], (url, response.status_code)


def test_no_route_changes_state_on_get(app):
    state_changing = {"auth.logout", "auth.resend_confirmation", "posts.withdraw", "posts.fulfilled", "posts.renew", "coord.mark_resident",
                      "admin.set_role", "account.password", "account.digest", "account.delete", "account.delete_resident",
                      "posts.help_", "matches.answer", "matches.outcome", "coord.approve", "coord.reject", "coord.swap",
                      "coord.add_note", "fund.pledge", "fund.receipt", "fund.approve", "fund.decline", "fund.cancel",
                      "fund.pay", "fund.reverse",
                      "groups.join", "groups.leave", "groups.join_series", "groups.leave_series", "groups.feedback",
                      "groups.cancel_session", "groups.cancel_series", "groups.attendance", "groups.message",
                      "groups.accept_request", "groups.refuse_request", "groups.accept_series_request",
                      "groups.refuse_series_request", "calendar.reset_feed", "occurrences.act", "occurrences.stop",
                      "safety.save_check", "safety.remove_check", "safety.add_bar", "safety.lift_bar",
                      "blocks.block_post", "blocks.block_match", "blocks.undo",
                      "concerns.lift", "concerns.resolve", "concerns.act", "messages.send",
                      "membership.approve", "membership.decline", "membership.invite",
                      "imports.upload", "imports.start", "imports.discard"}
    state_changing |= API_WRITES | {"account.create_token", "account.revoke_token"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in state_changing:
            assert "GET" not in rule.methods, rule.endpoint


def test_members_cannot_reach_coordinator_or_admin_pages(client, make_user, login_as):
    login_as(make_user())
    for url in ("/coordinate/residents", "/coordinate/residents/new", "/coordinate/members", "/admin/users"):
        assert client.get(url).status_code == 403, url


def test_no_third_party_assets(client, make_user, make_post):
    make_post(make_user())
    for url in ("/", "/browse", "/auth/signup", "/posts/1"):
        html = client.get(url).get_data(as_text=True)
        for src in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not src.startswith(("http:", "https:", "//")), (url, src)


def test_fields_carry_only_meaningful_aria_attributes(client, make_user, login_as):
    login_as(make_user())
    page = client.get("/posts/new?kind=need").get_data(as_text=True)
    assert 'aria-invalid="None"' not in page and 'aria-describedby=""' not in page
    bad = client.post("/posts/new?kind=need", data={"csrf_token": csrf_token(client, "/posts/new?kind=need")})
    html = bad.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and 'aria-describedby="title-err"' in html
