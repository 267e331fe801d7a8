"""My calendar: the member's upcoming sessions and matched help, and their private feed."""
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.groups.forms import ActionForm
from app.i18n import in_language
from app.services import calendar as calendar_service
from app.web import public

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


@bp.route("")
def index():
    items = calendar_service.items_for(current_user, url_for)
    feed = calendar_service.feed_of(current_user)
    feed_url = url_for("calendar.feed", token=feed.token, _external=True) if feed else None
    return render_template("calendar/index.html", items=items, feed_url=feed_url, action_form=ActionForm())


@bp.route("/feed", methods=["POST"])
def reset_feed():
    """Make the private feed address, or replace it: the old address stops working."""
    if not ActionForm().validate_on_submit():
        abort(400)
    existed = calendar_service.feed_of(current_user) is not None
    calendar_service.reset_feed(current_user)
    flash(_("Your calendar has a new private address; the old one no longer works.") if existed
          else _("Your private calendar address is ready."), "success")
    return redirect(url_for("calendar.index"))


@bp.route("/feed/<token>.ics")
@public
def feed(token: str):
    """The private feed a calendar app subscribes to: whoever has the address reads it, so it
    carries only neutral titles, times, towns and links. An unknown or replaced token is a 404."""
    user = calendar_service.user_for_feed(token)
    if user is None:
        abort(404)
    with in_language(user.language):
        body = calendar_service.to_ics(calendar_service.items_for(user, url_for), current_app.config["BASE_URL"])
    return Response(body, mimetype="text/calendar")
