"""Helpers shared by the blueprints: access rules and turning service errors into form errors."""
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import IntegerConverter, ValidationError

from app.forms import CONTROL_MESSAGE, has_control_chars
from app.ids import MAX_ID, parse_id
from app.services import ServiceError


class IdConverter(IntegerConverter):
    """The app's `<int:...>`: every int in our URLs is a database id, so only 1..MAX_ID in ASCII
    digits match. /posts/0, /posts/99999999999999999999 or /posts/%D9%A3 is a 404 before any
    view runs, instead of an out-of-range query (a 500 on PostgreSQL above 2**31 - 1)."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str):
        if not value.isascii() or len(value) > len(str(MAX_ID)):
            raise ValidationError()
        return super().to_python(value)


def id_arg(name: str) -> int | None:
    """An id in the query string (?for=12): None when absent or blank, a 404 when it cannot be one."""
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return None
    number = parse_id(raw)
    if number is None:
        abort(404)
    return number


def text_arg(name: str, max_len: int = 80) -> tuple[str, str | None]:
    """A free-text query parameter read directly (the search boxes): (what was typed, stripped and
    cut to max_len, for showing again; a message for beside the box, or None). A value with
    control characters must not be searched for: PostgreSQL refuses NUL in text."""
    value = (request.args.get(name) or "").strip()[:max_len]
    return (value, str(CONTROL_MESSAGE)) if has_control_chars(value) else (value, None)


def page_arg(name: str = "page", last: int = 100_000) -> int:
    """A page number from the query string, 1..last (a huge one would overflow the OFFSET)."""
    return min(max(request.args.get(name, 1, type=int) or 1, 1), last)


def public(view):
    """Mark a view as deliberately public; every other view requires login."""
    view.is_public = True
    return view


def roles_required(*roles: str):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in roles and not (current_user.is_admin and "coordinator" in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require_login_unless_public():
    """before_request: deny by default. Static files and views marked @public are open."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "is_public", False) or current_user.is_authenticated:
        return None
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def board(view):
    """Mark a public view that shows posts or group sessions (browse, search, a post, the groups
    pages): when an admin makes the board members-only, it is for approved members only."""
    view.shows_board = True
    return view


# What an account that is not approved may still use on a members-only board: logging out and
# its own account, the home and privacy pages, the language switcher, the health checks.
OPEN_WHILE_WAITING = frozenset({"auth", "account", "main", "i18n", "ops"})


def keep_board_to_members():
    """before_request, after require_login_unless_public: the one place the members-only board is
    enforced, on the role and approval the person has now (app.services.membership). Board pages
    send visitors to log in; an account waiting for approval (or declined) gets the waiting page
    there and on every members' page outside OPEN_WHILE_WAITING. In public mode nothing changes."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    on_board = getattr(view, "shows_board", False)
    if not on_board and (getattr(view, "is_public", False) or request.blueprint in OPEN_WHILE_WAITING):
        return None
    from app.services import membership

    if membership.can_see_board(current_user):
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    return render_template("membership/waiting.html", status=membership.status_of(current_user)), 403


def form_error(form, err: ServiceError) -> None:
    """Show a service's error beside the field it names (or at the top of the form)."""
    name = err.field or ""
    base, _, index = name.partition("-")
    target = rows = None
    if index.isdigit() and hasattr(form, base):
        rows = getattr(form, base)
        if int(index) < len(rows.entries):
            sub = rows.entries[int(index)].form
            target = getattr(sub, "end", None) or next(iter(sub))
    elif hasattr(form, name):
        target = getattr(form, name)
    if target is not None:
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(err.message)
        if rows is not None:  # the list's own errors were gathered at validation: count this row too
            rows.errors = [*rows.errors, sub.errors]
    else:
        form.form_errors.append(err.message)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after a form (login, posting, closing a post).

    Decided by parsing, not by prefix: browsers drop tabs and newlines inside a URL and treat a
    backslash as a slash, so "/<tab>/evil.example" or a backslash path would leave the site.
    """
    if not target or any(ord(c) < 0x21 or ord(c) == 0x7F or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def run_action(action, done: str, ok_url: str, back_url: str):
    """Run a service action from a button: success flashes `done` and goes to `ok_url`; a rule
    break is 403, a state that no longer allows it 409 (with the sentence), bad input a message
    back on `back_url`."""
    from app.services import Conflict, NotAllowed

    try:
        action()
    except NotAllowed as err:
        abort(403, description=err.message)
    except Conflict as err:
        abort(409, description=err.message)
    except ServiceError as err:
        flash(str(err.message), "error")
        return redirect(back_url)
    flash(str(done), "success")
    return redirect(ok_url)
