"""Languages: the one list of them, which one each page, email and text is in, and the switcher.

The language of a page is, in order: the member's own setting, the visitor's choice from the
switcher (kept in the session), the browser's Accept-Language, English. Emails and texts are
written in the recipient's language (`in_language`), whoever caused them. Strings are marked with
`_` (now) or `_l` (module constants, evaluated when shown) from flask_babel; `pybabel extract`
(app/translations/babel.cfg) collects them into app/translations/messages.pot, and each language has its .po file.

To add a language: add it to LANGUAGES, run `make translations-update`, translate
app/translations/<code>/LC_MESSAGES/messages.po; the tests fail until every message has one.
"""
from contextlib import contextmanager
from datetime import date, datetime
from types import SimpleNamespace

import flask_babel

from flask import Blueprint, Flask, current_app, has_request_context, redirect, request, session, url_for
from flask.globals import _cv_app
from flask_babel import Babel, force_locale, format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import escape

from app.web import public, safe_next

# Flask-Babel's lazy strings (`_l`) call themselves safe HTML without escaping anything, so a
# label like "Skills & workshops" went out raw, and a lazy message holding a member's words would
# skip autoescaping. Here they escape like any other text.
def _escaped_html(self) -> str:
    return str(escape(str(self)))


LazyString.__html__ = _escaped_html


# A page looks up its translations a few hundred times (every `_`, every lazy label, every date),
# and Flask-Babel's lookup goes each time through three context-local proxies and renders the
# locale's name as a cache key: about a fifth of the CPU of a browse page. The same objects,
# reached directly: its per-context namespace from the app context, and the translations it found
# kept on that namespace for as long as the locale object is the same (`force_locale` and
# `refresh` replace it, so a forced language is never answered from the page's).
def _babel_context() -> SimpleNamespace | None:
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return None
    g = app_ctx.g
    try:
        return g._flask_babel
    except AttributeError:
        g._flask_babel = SimpleNamespace()
        return g._flask_babel


_domain_translations = flask_babel.Domain.get_translations


def _cached_translations(self: flask_babel.Domain):
    ctx = _babel_context()
    if ctx is None:
        return _domain_translations(self)
    locale = flask_babel.get_locale()
    hit = getattr(ctx, "mae_translations", None)
    if hit is not None and hit[0] is self and hit[1] is locale:
        return hit[2]
    translations = _domain_translations(self)
    ctx.mae_translations = (self, locale, translations)
    return translations


flask_babel._get_current_context = _babel_context
flask_babel.Domain.get_translations = _cached_translations

# The one list of languages: code -> the language's own name (what the switcher shows).
LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT = "en"

babel = Babel()
bp = Blueprint("i18n", __name__)


def choose(code: str | None) -> str:
    return code if code in LANGUAGES else DEFAULT


def select_locale() -> str:
    if not has_request_context():  # a command or a job: English unless `in_language` says otherwise
        return DEFAULT
    user = current_user
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "language", None) in LANGUAGES:
        return user.language
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT)


def select_timezone() -> str:
    return current_app.config["COMMUNITY_TZ"]


def current() -> str:
    return str(get_locale() or DEFAULT)


@contextmanager
def in_language(code: str | None):
    """Render what is inside (an email's subject and bodies) in `code`'s language."""
    with force_locale(choose(code)):
        yield


# Dates and times: the templates name a format the way strftime would; each is a CLDR pattern that
# translators adapt ("MMM d" in English, "d MMM" in Spanish), so names and order follow the language.
# Translators: these are CLDR date patterns (EEEE weekday, MMMM month, d day, h:mm a / HH:mm time,
# y year); keep the letters, translate only the words between quotes, reorder as your language does.
DATE_PATTERNS = {
    "%a %b %-d, %-I:%M %p": _l("EEE MMM d, h:mm a"),
    "%A, %B %-d at %-I:%M %p": _l("EEEE, MMMM d 'at' h:mm a"),
    "%A, %B %-d": _l("EEEE, MMMM d"),
    "%a %b %-d": _l("EEE MMM d"),
    "%b %-d": _l("MMM d"),
    "%b %-d, %Y": _l("MMM d, y"),
    "%B %Y": _l("MMMM y"),
    "%-I:%M %p": _l("h:mm a"),
    "%b %-d %-I:%M:%S %p": _l("MMM d h:mm:ss a"),
}


def local_time(value: datetime | None, fmt: str = "%a %b %-d, %-I:%M %p") -> str:
    """A stored (naive UTC) time in the community's zone, in the reader's language."""
    if not value:
        return ""
    return format_datetime(value, str(DATE_PATTERNS[fmt]))


def day(value: date | None, fmt: str = "%b %-d, %Y") -> str:
    """A calendar date in the reader's language."""
    if not value:
        return ""
    return format_date(value, str(DATE_PATTERNS[fmt]))


def _safe_next(target: str | None) -> str:
    """Back to the page the switcher was on; anything that could leave the site goes home instead."""
    return safe_next(target) or url_for("main.index")


@bp.route("/language", methods=["POST"])
@public
def switch():
    """The switcher in every page's footer: a form (CSRF-checked, no JavaScript needed)."""
    code = choose(request.form.get("language"))
    session["lang"] = code
    if getattr(current_user, "is_authenticated", False):
        from app.services.accounts import set_language

        set_language(current_user._get_current_object(), code)
    return redirect(_safe_next(request.form.get("next")), 303)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path + "/translations"))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.register_blueprint(bp)

    app.add_template_filter(local_time, "local")
    app.add_template_filter(day, "day")

    @app.context_processor
    def _languages():
        return {"LANGUAGES": LANGUAGES, "current_language": current()}
