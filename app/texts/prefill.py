"""The new-post form prefilled from a request texted in (?from_text=<id>): the member's own draft
at /posts/new, or a resident's queued request in the coordinators' post-for-resident form. The
request is the requester's alone (anyone else gets a 404); one already posted says so."""
from datetime import datetime, time, timedelta

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import TextRequest, User
from app.services import Conflict, NotAllowed, text_requests
from app.web import id_arg


def text_request_for(kind: str, owner: User | None) -> TextRequest | None:
    """The request named by ?from_text=, if this viewer may post it; None without the parameter."""
    request_id = id_arg("from_text")
    if request_id is None:
        return None
    if kind != "need":
        abort(404)
    try:
        return text_requests.get_for_posting(current_user, request_id, owner)
    except NotAllowed:
        abort(404)
    except Conflict as err:
        row = db.session.get(TextRequest, request_id)
        flash(err.message, "info")
        if row is not None and row.post_id:
            abort(redirect(url_for("posts.detail", post_id=row.post_id)))
        abort(redirect(url_for("coord.texts") if owner is not None else url_for("posts.mine")))


def fill(form, row: TextRequest) -> None:
    """Category, title and the day and time read from the text: for a ride, its appointment; for
    anything else, its first window (an hour from the time given)."""
    parsed = row.parsed or {}
    if row.category and row.category in dict(form.category.choices):
        form.category.data = row.category
    form.title.data = (parsed.get("title") or "")[:120] or None
    day = _value(parsed, "date", lambda v: datetime.strptime(v, "%Y-%m-%d").date())
    at = _value(parsed, "time", lambda v: datetime.strptime(v, "%H:%M").time())
    if row.category == "rides":
        form.appointment_day.data, form.appointment_time.data = day, at
        if parsed.get("destination") in dict(form.destination_kind.choices):
            form.destination_kind.data = parsed["destination"]
    elif day is not None:
        window = form.windows.entries[0].form
        window.day.data = day
        if at is not None:
            window.start.data = at
            end = datetime.combine(day, at) + timedelta(hours=1)
            window.end.data = end.time() if end.date() == day else time(23, 59)
    if day is not None or at is not None:
        form.flexible.data = False


def _value(parsed: dict, key: str, convert):
    try:
        return convert(parsed[key]["value"])
    except (KeyError, TypeError, ValueError):
        return None


def posted(row: TextRequest | None, post) -> None:
    """After the post was saved: the request it came from is posted."""
    if row is not None and request.method == "POST":
        text_requests.mark_posted(current_user, row.id, post.id)
