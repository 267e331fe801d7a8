"""Matches over the API: mine, one match (with the contact cards the match page shows), and the
two people's answers. As app/matches/views.py: a match one may not see is a 404."""
from flask_smorest import Blueprint, abort

from app.api import present, schemas
from app.api.auth import current, secure
from app.api.errors import documented, fail
from app.matches.views import match_url
from app.models import Match
from app.ids import get_by_id
from app.services import ServiceError, disclosure, match_queue
from app.services import matches as match_service
from app.services import posts as post_service

bp = Blueprint("api_matches", __name__, url_prefix="/api/v1", description="Matches between a request and an offer.")
secure(bp)


def visible_match(match_id: int) -> Match:
    match = get_by_id(Match, match_id)
    if match is None or not disclosure.can_view(current(), match):
        abort(404)  # no hint that the match exists
    return match


@bp.route("/me/matches", methods=["GET"])
@bp.response(200, schemas.MatchList)
@documented(bp, 401, 403, 429)
def mine():
    """The matches of my requests and offers, newest first (contact cards: see one match)."""
    posts = post_service.posts_of([current().id])
    found = match_queue.matches_for_posts([p.id for p in posts])
    return {"items": [present.match(current(), m) for m in found]}


@bp.route("/matches/<int:match_id>", methods=["GET"])
@bp.response(200, schemas.MatchOut)
@documented(bp, 401, 403, 404, 429)
def detail(match_id: int):
    """One match. After a coordinator approved it, the other person's contact card and the place
    (both cards for coordinators); each showing is recorded, as on the match page."""
    return present.match(current(), visible_match(match_id), with_contacts=True)


@bp.route("/matches/<int:match_id>/answer", methods=["POST"])
@bp.arguments(schemas.AnswerIn)
@bp.response(200, schemas.MatchOut)
@documented(bp, 401, 403, 404, 409, 422, 429)
def answer(data, match_id: int):
    """Confirm (accept: true) or decline (accept: false) an approved match, for your side."""
    visible_match(match_id)
    try:
        match = match_service.answer(current(), match_id, data["accept"], link_for=match_url)
    except ServiceError as err:
        fail(err)
    return present.match(current(), match)
