from flask import Blueprint, render_template
from flask_login import current_user

from app.services import geo
from app.services import posts as post_service
from app.web import public

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def index():
    origin = None
    if current_user.is_authenticated and current_user.lat is not None:
        origin = geo.coarse_cell(current_user.lat, current_user.lon)
    recent = post_service.browse(post_service.BrowseFilters(kind="need", origin=origin, within_miles=25 if origin else None, per_page=6))
    return render_template("main/index.html", recent=recent, has_origin=origin is not None)


@bp.route("/privacy")
@public
def privacy():
    return render_template("main/privacy.html")
