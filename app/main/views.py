from flask import Blueprint, render_template, request
from flask_login import current_user

from app.extensions import csrf
from app.services import ServiceError, digests, geo, membership, settings
from app.services import browse as browse_service
from app.web import public

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def index():
    origin = None
    if current_user.is_authenticated and current_user.lat is not None:
        origin = geo.coarse_cell(current_user.lat, current_user.lon)
    recent = None  # a members-only board: the home page stays open, its list of requests does not
    if membership.can_see_board(current_user):
        recent = browse_service.browse(browse_service.BrowseFilters(kind="need", origin=origin, within_miles=25 if origin else None, per_page=6))
    return render_template("main/index.html", recent=recent, has_origin=origin is not None)


@bp.route("/privacy")
@public
def privacy():
    return render_template("main/privacy.html", members_only=settings.board_members_only())


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # RFC 8058: mail clients POST without our form; the signed token is the authority
def unsubscribe(token: str):
    """GET shows a confirmation and changes nothing; POST (one click, or the button) unsubscribes."""
    try:
        if request.method == "POST":
            digests.unsubscribe(token)
            return render_template("main/unsubscribe.html", done=True)
        digests.subscription_for_token(token)
    except ServiceError as err:
        return render_template("main/unsubscribe.html", error=err.message), 404
    return render_template("main/unsubscribe.html", token=token)
