"""Buttons on the dates of a need that repeats: skip, confirm, done or did not happen, and
"stop helping" on a match that covers several dates. The rules are in app/services/occurrences.py."""
from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.services import NotAllowed
from app.services import occurrences as service
from app.web import run_action, safe_next

bp = Blueprint("occurrences", __name__, url_prefix="/occurrences")

DONE = {"skip": _l("That date is skipped; the others stay as they were."),
        "confirm": _l("Thank you: that date is confirmed."),
        "done": _l("Thank you: marked as done."),
        "missed": _l("Thank you for letting us know; the other dates stay as they were.")}


def _back(row) -> str:
    return safe_next(request.form.get("next")) or url_for("posts.detail", post_id=row.need_id)


@bp.route("/<int:occurrence_id>/skip", methods=["POST"], defaults={"action": "skip"})
@bp.route("/<int:occurrence_id>/confirm", methods=["POST"], defaults={"action": "confirm"})
@bp.route("/<int:occurrence_id>/done", methods=["POST"], defaults={"action": "done"})
@bp.route("/<int:occurrence_id>/missed", methods=["POST"], defaults={"action": "missed"})
def act(occurrence_id: int, action: str):
    try:
        row = service.get_occurrence(occurrence_id)
    except NotAllowed:
        abort(404)
    calls = {"skip": lambda: service.skip(current_user, occurrence_id),
             "confirm": lambda: service.confirm(current_user, occurrence_id),
             "done": lambda: service.record(current_user, occurrence_id, True),
             "missed": lambda: service.record(current_user, occurrence_id, False)}
    back = _back(row)
    return run_action(calls[action], DONE[action], back, back)


@bp.route("/matches/<int:match_id>/stop", methods=["POST"])
def stop(match_id: int):
    back = safe_next(request.form.get("next")) or url_for("matches.detail", match_id=match_id)
    return run_action(lambda: service.stop_helping(current_user, match_id),
                      _l("Thank you for your help. The other dates go back to looking for a helper."), back, back)
