"""Group sessions over the API: upcoming ones, joining and leaving (app/groups/views.py)."""
from flask import current_app
from flask_smorest import Blueprint, abort

from app.api import present, schemas
from app.api.auth import current, secure
from app.api.errors import documented, fail
from app.groups.views import session_link
from app.services import NotAllowed, ServiceError, geo, group_access, groups_browse, groups_join

bp = Blueprint("api_groups", __name__, url_prefix="/api/v1/groups", description="Workshops and peer groups.")
secure(bp)


def _session(session_id: int):
    try:
        return group_access.get_session(session_id)
    except NotAllowed:
        abort(404)


@bp.route("/sessions", methods=["GET"])
@bp.arguments(schemas.GroupArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.GroupPage)
@documented(bp, 401, 403, 429)
def sessions(page, category=None, near=None, within=None):
    """Upcoming sessions, soonest first, with where the account stands in each."""
    origin = geo.viewer_origin(current(), near)
    filters = groups_browse.GroupFilters(category=category, origin=origin,
                                         within_miles=float(within) if within and origin else None, page=page,
                                         per_page=current_app.config["POSTS_PER_PAGE"])
    result = groups_browse.upcoming(filters, current())
    return {"items": [present.group_session(i) for i in result.items], "total": result.total, "page": result.page,
            "pages": result.pages}


@bp.route("/sessions/<int:session_id>/join", methods=["POST"])
@bp.arguments(schemas.JoinIn)
@bp.response(200, schemas.JoinOut)
@documented(bp, 401, 403, 404, 409, 422, 429)
def join(data, session_id: int):
    """Join a session: a place if one is free, else the waiting list; a request if the host asks first."""
    session = _session(session_id)
    try:
        result = groups_join.join_session(current(), session.id, data["share_contact"], session_link)
    except ServiceError as err:
        fail(err)
    return {"status": result.status, "position": result.position}


@bp.route("/sessions/<int:session_id>/leave", methods=["POST"])
@bp.response(200, schemas.Done)
@documented(bp, 401, 403, 404, 409, 429)
def leave(session_id: int):
    """Give up a place, leave the waiting list, or withdraw a request."""
    from flask_babel import gettext as _

    session = _session(session_id)
    try:
        groups_join.leave_session(current(), session.id, session_link)
    except ServiceError as err:
        fail(err)
    return {"message": _("You left this session.")}
