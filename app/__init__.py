"""Mutual Aid Exchange: the Flask application factory."""
import os
import secrets
from pathlib import Path

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import SecurityError

from app.config import Config
from app.extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type | dict | None = None) -> Flask:
    """Build the app. `config` is a Config class or a dict of overrides (tests).

    The instance folder (SQLite file, secret key, demo logins) is `instance/` unless the
    overrides (or the environment) name another as INSTANCE_PATH, as the tests do so they never
    touch a developer's files.
    """
    instance = (config or {}).get("INSTANCE_PATH") if isinstance(config, dict) else None
    instance = instance or os.environ.get("INSTANCE_PATH")
    app = Flask(__name__, instance_path=str(instance or ROOT / "instance"), instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder="static")
    app.config.from_object(Config)
    if isinstance(config, type):
        app.config.from_object(config)
    elif isinstance(config, dict):
        app.config.update(config)
    _finish_config(app)
    if app.config["PROXY_FIX_HOPS"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if os.environ.get("TEST_CLOCK_FILE") and app.config["APP_ENV"] != "testing":
        raise RuntimeError("TEST_CLOCK_FILE moves the clock and is accepted only with APP_ENV=testing.")
    from app.ops import logs

    logs.init_app(app)
    logs.init_sentry(app)

    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    from app import after_response, cli, fragments, i18n
    from app.jobs import queue
    from app.services import outbox

    i18n.init_app(app)
    fragments.init_app(app)
    cli.init_app(app)
    outbox.init_app(app)
    queue.init_app(app)
    after_response.init_app(app)
    return app


def _finish_config(app: Flask) -> None:
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'mutual_aid.sqlite'}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if app.config["APP_ENV"] == "production" and not app.config.get("TRUSTED_HOSTS"):
        from urllib.parse import urlsplit

        app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["BASE_URL"]).hostname, "localhost", "127.0.0.1"]
    if not app.config.get("SECRET_KEY"):
        if app.config["APP_ENV"] == "production":
            raise RuntimeError("SECRET_KEY must be set in production (APP_ENV=production).")
        # Development: a random key kept in instance/ so sessions survive a restart.
        key_file = Path(app.instance_path) / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()


def register_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from app.ids import get_by_id
    from app.models import User  # noqa: F401 - models must be imported before migrate

    db.init_app(app)
    with app.app_context():
        _tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "app" / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Lazy, and made a str (in the visitor's language) when Flask-Login flashes it.
    login_manager.login_message = _l("Please log in to see that page.")
    login_manager.localize_callback = str
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        # The id carries the user's session token, rotated at logout and password change.
        uid, _, token = (user_id or "").partition(":")
        if not token:
            return None
        user = get_by_id(User, uid)
        if user is None or not secrets.compare_digest(user.session_token, token) or not user.can_log_in:
            return None
        return user


def _tune_sqlite(engine) -> None:
    """SQLite: write-ahead logging, so readers never wait for a writer and a commit costs no full
    sync (the outbox commits once per email); a write waits for its turn instead of failing.

    Reads run outside any transaction (always the latest data, no lock held), and a transaction
    opens just before its first write with BEGIN IMMEDIATE: it takes the single write lock at once,
    waiting up to the busy timeout for it. (A deferred transaction that had read first could instead
    fail at once with "database is locked" when another writer committed in between.) Services keep
    write transactions short: nothing slow, such as the matching engine, runs inside one."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = "IMMEDIATE"  # the driver's implicit BEGIN before a write
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def register_converters(app: Flask) -> None:
    """Before any route is added: every `<int:...>` in the app is a database id (see IdConverter)."""
    from app.web import IdConverter

    app.url_map.converters["int"] = IdConverter


def register_blueprints(app: Flask) -> None:
    from app.account.views import bp as account_bp
    from app.account import data_views  # noqa: F401 - its routes (my data, delete my account) are on account_bp
    from app.account import notice_views  # noqa: F401 - how each kind of notice reaches a member, on account_bp
    from app.account import phone_views  # noqa: F401 - my mobile number for texts, on account_bp
    from app.account import token_views  # noqa: F401 - my API tokens, on account_bp
    from app.admin.views import bp as admin_bp
    from app.auth.views import bp as auth_bp
    from app.calendar.views import bp as calendar_bp
    from app.concerns.views import bp as concerns_bp
    from app.coord.views import bp as coord_bp
    from app.coord import text_views  # noqa: F401 - texts for coordinators (unread replies, requests by text), on coord_bp
    from app.coord import phone_views as coord_phone_views  # noqa: F401 - a resident's mobile number, on coord_bp
    from app.fund.views import bp as fund_bp
    from app.groups.views import bp as groups_bp
    from app.main.views import bp as main_bp
    from app.matches.views import bp as matches_bp
    from app.messages.views import bp as messages_bp
    from app.occurrences.views import bp as occurrences_bp
    from app.ops.views import bp as ops_bp
    from app.posts.views import bp as posts_bp

    for bp in (main_bp, auth_bp, account_bp, posts_bp, matches_bp, coord_bp, fund_bp, admin_bp, ops_bp,
               occurrences_bp, groups_bp, calendar_bp):
        app.register_blueprint(bp)
    from app.admin.settings_views import bp as settings_bp
    from app.membership.views import bp as membership_bp

    app.register_blueprint(settings_bp)
    app.register_blueprint(membership_bp)
    from app.safety.block_views import bp as blocks_bp
    from app.safety.views import bp as safety_bp

    app.register_blueprint(safety_bp)
    app.register_blueprint(blocks_bp)
    app.register_blueprint(concerns_bp)
    app.register_blueprint(messages_bp)
    from app.texts import bp as texts_bp

    app.register_blueprint(texts_bp)
    from app.imports import bp as imports_bp  # CSV import and export (issue #17)

    app.register_blueprint(imports_bp)
    from app import api

    api.init_app(app)  # the JSON API, its OpenAPI description and docs (token-authenticated)
    from app.reports import bp as reports_bp  # dashboard, funder report, public impact page

    app.register_blueprint(reports_bp)
    from app.web import keep_board_to_members, require_login_unless_public

    app.before_request(require_login_unless_public)
    app.before_request(keep_board_to_members)  # after the login check: a members-only board


def register_errorhandlers(app: Flask) -> None:
    from flask_babel import gettext as _

    def render(code: int, title: str, message: str):
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(SecurityError)
    def untrusted_host(_e):
        # A Host header outside TRUSTED_HOSTS: no page (its links would carry that host), plain text.
        return "This site is not served under that name.", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        return render(400, _("Please try again"), _("This form had expired. Go back, reload the page and send it again."))

    @app.errorhandler(400)
    def bad_request(_e):
        return render(400, _("Something was wrong with that request"), _("Go back and try again."))

    @app.errorhandler(403)
    def forbidden(_e):
        return render(403, _("Not allowed"), _("You don't have permission to do that."))

    @app.errorhandler(404)
    def not_found(_e):
        return render(404, _("Page not found"), _("We couldn't find that page. It may have been removed."))

    @app.errorhandler(405)
    def not_allowed(_e):
        return render(405, _("Not allowed"), _("That action can't be done this way."))

    @app.errorhandler(409)
    def conflict(e):
        return render(409, _("That can't be done now"),
                      getattr(e, "description", "") or _("The item changed; reload and try again."))

    @app.errorhandler(413)
    def too_large(_e):
        return render(413, _("Too much data"), _("That was more than we can accept. Shorten it and try again."))

    @app.errorhandler(429)
    def too_many(_e):
        return render(429, _("Too many attempts"), _("Please wait a minute before trying again."))

    @app.errorhandler(500)
    def server_error(_e):
        db.session.rollback()
        return render(500, _("Something went wrong"), _("Sorry, that didn't work. Nothing you saved before was lost."))

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'self'",
        )
        # Pages carry names, contact details, notes or at least who is logged in: no browser,
        # proxy or shared computer may keep a copy. Only the site's own static files are cacheable.
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        if app.config["APP_ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def register_template_helpers(app: Flask) -> None:
    from app.models.posts import CATEGORIES, DESTINATION_KINDS, URGENCIES, needed_by_label
    from app.services.reasons import reason_text
    from app.timeutil import local_today

    @app.template_filter("units")
    def units(n, category):
        """'1 seat', '3 seats': the unit of a category, agreeing with the number."""
        from app.models.posts import units_text

        return units_text(n, category)

    @app.template_filter("duration")
    def duration(minutes, free=False):
        """How long help takes ('2 hours', 'a day'), or with free=True a stretch of free time."""
        from app.durations import CLOCK_DAY, TASK_DAY, duration_words

        return duration_words(minutes, CLOCK_DAY if free else TASK_DAY)

    @app.context_processor
    def globals_():
        return {"CATEGORIES": CATEGORIES, "URGENCIES": URGENCIES, "DESTINATION_KINDS": DESTINATION_KINDS,
                "needed_by_label": lambda day: needed_by_label(day, local_today()), "reason_text": reason_text}
