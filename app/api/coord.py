"""The coordinators' queue over the API: proposals waiting, approve, reject (app/coord/views.py).
The role is the one the account has now; the services check it again."""
from flask import current_app
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort

from app.api import present, schemas
from app.api.auth import current, secure
from app.api.errors import documented, fail
from app.ids import get_by_id
from app.matches.views import match_url
from app.models import Match
from app.services import ServiceError, match_queue
from app.services import matches as match_service

bp = Blueprint("api_coord", __name__, url_prefix="/api/v1/coord", description="For coordinators: matches to review.")
secure(bp)


@bp.before_request
def coordinators_only():
    if not current().is_coordinator:
        abort(403, message=_("Only coordinators can do that."))


def _match(match_id: int) -> Match:
    match = get_by_id(Match, match_id)
    if match is None:
        abort(404)
    return match


@bp.route("/queue", methods=["GET"])
@bp.arguments(schemas.QueueArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.QueuePage)
@documented(bp, 401, 403, 429)
def queue(page):
    """Proposals waiting for a coordinator, most urgent and longest waiting first."""
    items = match_queue.queue(page, current_app.config["QUEUE_PER_PAGE"])
    return {"items": [present.queue_item(current(), i) for i in items], "total": items.total, "page": items.page,
            "pages": items.pages}


@bp.route("/matches/<int:match_id>/approve", methods=["POST"])
@bp.response(200, schemas.MatchOut)
@documented(bp, 401, 403, 404, 409, 429)
def approve(match_id: int):
    """Approve a proposal: both people are told, and see each other's contact card."""
    _match(match_id)
    try:
        match = match_service.approve(current(), match_id, match_url)
    except ServiceError as err:
        fail(err)
    return present.match(current(), match)


@bp.route("/matches/<int:match_id>/reject", methods=["POST"])
@bp.arguments(schemas.RejectIn)
@bp.response(200, schemas.MatchOut)
@documented(bp, 401, 403, 404, 409, 422, 429)
def reject(data, match_id: int):
    """Reject a proposal, saying why (for the next coordinator)."""
    _match(match_id)
    try:
        match = match_service.reject(current(), match_id, data["reason"])
    except ServiceError as err:
        fail(err)
    return present.match(current(), match)
