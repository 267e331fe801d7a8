"""Helpers shared by the blueprints: access rules and turning service errors into form errors."""
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from app.services import ServiceError


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


def form_error(form, err: ServiceError) -> None:
    """Show a service's error beside the field it names (or at the top of the form)."""
    name = err.field or ""
    base, _, index = name.partition("-")
    target = None
    if index.isdigit() and hasattr(form, base):
        entries = getattr(form, base).entries
        if int(index) < len(entries):
            sub = entries[int(index)].form
            target = getattr(sub, "end", None) or next(iter(sub))
    elif hasattr(form, name):
        target = getattr(form, name)
    if target is not None:
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(err.message)
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
        flash(err.message, "error")
        return redirect(back_url)
    flash(done, "success")
    return redirect(ok_url)
