"""The language of pages: the browser's Accept-Language, the footer switcher (kept in the session
for a visitor, saved for a member), the member's own setting, the profile form and sign-up.

These check the language chosen (`<html lang>`, `user.language`), not Spanish words: the Spanish
catalog is written separately. One test reads Spanish once it is compiled."""
from datetime import timedelta
from pathlib import Path

import pytest

from app.extensions import db
from app.models import User
from app.timeutil import local_today
from tests.conftest import csrf_token

SPANISH = {"Accept-Language": "es-MX,es;q=0.9"}
MO = Path(__file__).resolve().parents[2] / "app" / "translations" / "es" / "LC_MESSAGES" / "messages.mo"


def _has_spanish() -> bool:
    return MO.exists()


def _lang(response) -> str | None:
    html = response.get_data(as_text=True)
    start = html.find("<html lang=\"")
    return html[start + len("<html lang=\""):html.index("\"", start + len("<html lang=\""))] if start >= 0 else None


def _switch(client, language, next_url="/", token=True, headers=None):
    data = {"language": language, "next": next_url}
    if token:
        data["csrf_token"] = csrf_token(client, "/")
    return client.post("/language", data=data, headers=headers or {})


def _reload(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_a_visitor_gets_the_language_their_browser_asks_for(client):
    assert 'lang="es"' in client.get("/", headers=SPANISH).get_data(as_text=True)
    assert _lang(client.get("/auth/login", headers={"Accept-Language": "es"})) == "es"


def test_english_is_the_default(client):
    assert _lang(client.get("/")) == "en"
    assert _lang(client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,de;q=0.5"})) == "en"
    assert _lang(client.get("/", headers={"Accept-Language": "en-US,en;q=0.9,es;q=0.5"})) == "en"


def test_the_switcher_keeps_a_visitors_choice_in_the_session(client):
    response = _switch(client, "es", "/privacy")
    assert response.status_code == 303 and response.headers["Location"].endswith("/privacy")
    with client.session_transaction() as session:
        assert session["lang"] == "es"
    assert _lang(client.get("/privacy")) == "es"
    # The choice beats the browser's language, both ways.
    assert _lang(client.get("/", headers={"Accept-Language": "en-US"})) == "es"
    _switch(client, "en", headers=SPANISH)
    assert _lang(client.get("/", headers=SPANISH)) == "en"


def test_the_switcher_saves_a_members_language(client, make_user, login_as):
    user = make_user()
    login_as(user)
    assert _switch(client, "es", "/account/").status_code == 303
    assert _reload(user).language == "es"
    assert _lang(client.get("/account/")) == "es"
    _switch(client, "en")
    assert _reload(user).language == "en"


def test_an_unknown_language_falls_back_to_english(client, make_user, login_as):
    user = make_user()
    user.language = "es"
    db.session.commit()
    login_as(user)
    assert _switch(client, "xx").status_code == 303
    assert _reload(user).language == "en"


def test_the_switcher_refuses_a_post_without_a_csrf_token(client, make_user, login_as):
    response = _switch(client, "es", token=False)
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "lang" not in session
    assert _lang(client.get("/")) == "en"

    user = make_user()
    login_as(user)
    assert _switch(client, "es", token=False).status_code == 400
    assert _reload(user).language == "en"
    assert _lang(client.get("/")) == "en"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "/\t/evil.example",
                                    "javascript:alert(1)", ""])
def test_the_switcher_never_sends_anyone_off_the_site(client, target):
    response = _switch(client, "es", target)
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_the_switcher_returns_to_the_page_with_its_query(client):
    response = _switch(client, "es", "/posts?kind=offer&page=2")
    assert response.headers["Location"].endswith("/posts?kind=offer&page=2")


def test_a_members_saved_language_wins_over_the_browser(client, make_user, login_as):
    user = make_user()
    user.language = "es"
    db.session.commit()
    login_as(user)
    assert _lang(client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})) == "es"
    user = _reload(user)
    user.language = "en"
    db.session.commit()
    assert _lang(client.get("/", headers=SPANISH)) == "en"


def _profile(client, **fields):
    data = {"name": "Ana Ruiz", "zip_code": "54016", "phone": "", "contact_method": "email",
            "contact_name": "", "contact_detail": ""}
    data.update(fields)
    data["csrf_token"] = csrf_token(client, "/account/")
    return client.post("/account/", data=data)


def test_the_profile_form_saves_the_language(client, make_user, login_as):
    user = make_user()
    login_as(user)
    page = client.get("/account/").get_data(as_text=True)
    assert 'name="language"' in page and '<option lang="es" value="es">Español</option>' in page
    response = _profile(client, language="es")
    assert response.status_code == 302, response.get_data(as_text=True)
    user = _reload(user)
    assert user.language == "es" and user.name == "Ana Ruiz"
    page = client.get("/account/")
    assert _lang(page) == "es" and '<option lang="es" selected value="es">' in page.get_data(as_text=True)


def test_the_profile_form_refuses_an_unknown_language_and_keeps_it_without_one(client, make_user, login_as):
    user = make_user()
    user.language = "es"
    db.session.commit()
    login_as(user)
    refused = _profile(client, language="xx")
    assert refused.status_code != 302 and 'id="language-err"' in refused.get_data(as_text=True)
    assert _reload(user).language == "es"
    # A post without the field (a page from before it existed) leaves the language alone.
    assert _profile(client, name="Ana B").status_code == 302
    user = _reload(user)
    assert user.language == "es" and user.name == "Ana B"


def test_a_sign_up_in_spanish_stores_spanish(client, smtp):
    data = {"name": "Rae Olson", "email": "rae@example.org", "zip_code": "55082",
            "password": "a long enough pw", "confirm": "a long enough pw",
            "csrf_token": csrf_token(client, "/auth/signup")}
    response = client.post("/auth/signup", data=data, headers=SPANISH)
    assert response.status_code == 200 and _lang(response) == "es"
    user = db.session.scalar(db.select(User).where(User.email == "rae@example.org"))
    assert user.language == "es"


def test_a_sign_up_in_english_stores_english(client, smtp):
    data = {"name": "Rae Olson", "email": "rae@example.org", "zip_code": "55082",
            "password": "a long enough pw", "confirm": "a long enough pw",
            "csrf_token": csrf_token(client, "/auth/signup")}
    assert client.post("/auth/signup", data=data).status_code == 200
    assert db.session.scalar(db.select(User).where(User.email == "rae@example.org")).language == "en"


@pytest.mark.skipif(not _has_spanish(), reason="the Spanish catalog is not compiled yet")
def test_a_spanish_visitor_reads_the_navigation_in_spanish(client):
    page = client.get("/", headers=SPANISH).get_data(as_text=True)
    assert ">Explorar</a>" in page and ">Iniciar sesión</a>" in page
    assert ">Browse</a>" not in page


def test_a_coordinator_reads_the_engines_reasons_in_their_language_and_in_miles(client, make_user, make_post, login_as):
    from app.extensions import db
    from app.models import Match

    asker, helper = make_user(email="asker@example.org"), make_user(email="helper@example.org")
    make_post(helper, kind="offer", title="Rides to the clinic", radius_miles=15)
    make_post(asker, title="Ride to the clinic", urgency=3)
    match = db.session.scalar(db.select(Match))
    assert match is not None and all(isinstance(r, list) for r in match.reasons)
    coordinator = make_user("coordinator", email="coord@example.org")
    coordinator.language = "es"
    db.session.commit()
    login_as(coordinator)
    page = client.get("/coordinate/queue").get_data(as_text=True)
    assert "urgente: hoy" in page and "el mismo tipo de ayuda: clinic" in page
    assert "urgent: today" not in page and " km" not in page


def test_a_message_in_another_language_inside_a_page_keeps_each_its_own(app):
    """The page's translations are kept for the page (app/i18n.py): an email written in the
    recipient's language in the middle of a Spanish page is English, and the page goes on in
    Spanish after it, lazy labels included."""
    if not _has_spanish():
        pytest.skip("the Spanish catalog is not compiled")
    from flask_babel import gettext, lazy_gettext

    from app.i18n import in_language

    label = lazy_gettext("Post my request")
    with app.test_request_context("/", headers=SPANISH):
        app.preprocess_request()
        assert gettext("Post my request") == "Publicar mi solicitud" == str(label)
        with in_language("en"):
            assert gettext("Post my request") == "Post my request" == str(label)
            with in_language("es"):
                assert str(label) == "Publicar mi solicitud"
            assert str(label) == "Post my request"
        assert gettext("Post my request") == "Publicar mi solicitud" == str(label)


def test_wtforms_own_messages_follow_each_members_language_request_after_request(app, make_user):
    """WTForms' messages come from its catalogs, kept per process and language (Flask-WTF reads
    them from disk on every request): each request still gets its own member's language, in the
    post's form and in the forms of its time rows."""
    from tests.conftest import login

    day = (local_today() + timedelta(days=3)).isoformat()
    bogus = {"category": "food", "title": "Groceries", "details": "", "zip_code": "54016", "quantity": "1",
             "urgency": "9", "duration_min": "60", "windows-0-day": day, "windows-0-start": "10:00",
             "windows-0-end": "12:00", "windows-1-day": "2026-13-45", "windows-1-start": "10:00",
             "windows-1-end": "12:00"}
    pages = {}
    for language in ("es", "en", "es"):
        member = make_user()
        member.language = language
        db.session.commit()
        c = app.test_client()
        assert login(c, member.email).status_code == 302
        html = c.post("/posts/new?kind=need", data=dict(bogus, csrf_token=csrf_token(c, "/posts/new?kind=need")))
        assert html.status_code == 422  # the form again, with its errors
        pages.setdefault(language, []).append(html.get_data(as_text=True))
    for page in pages["es"]:
        assert "Opción inválida." in page and "Not a valid choice." not in page
        # A time row is a form of its own inside the post's (a FieldList): its messages too.
        assert "No es una fecha válida." in page and "Not a valid date value." not in page
    assert "Not a valid choice." in pages["en"][0] and "Opción inválida." not in pages["en"][0]
    assert "Not a valid date value." in pages["en"][0]
