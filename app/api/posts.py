"""Posts over the API: browse and search, one post, my posts (list, post, edit, withdraw, mark
fulfilled, renew), "I can help".

Each view does what the matching HTML view does (app/posts/views.py), through the same services,
with the same checks on every id: a post one may not see is a 404, as on the site.
"""
from flask import current_app
from flask_smorest import Blueprint, abort

from app.api import present, schemas
from app.api.auth import current, secure
from app.api.errors import documented, fail
from app.extensions import db
from app.ids import get_by_id
from app.models import Post
from app.services import Conflict, ServiceError, geo, holds, repeat
from app.services import browse as browse_service
from app.services import match_queue
from app.services import matches as match_service
from app.services import posts as post_service
from app.services.posts import PostInput
from app.timeutil import community_zone, utc_to_local

bp = Blueprint("api_posts", __name__, url_prefix="/api/v1", description="Requests and offers of help.")
secure(bp)


def responses(*codes):
    return documented(bp, *codes)


def visible_post(post_id: int) -> tuple[Post, bool]:
    """(the post, whether this account manages it); 404 for a post it may not see: closed, or
    hidden by a safety report, to anyone but its owner and coordinators (as posts.detail)."""
    post = get_by_id(Post, post_id)
    if post is None:
        abort(404)
    manager = post_service.can_manage(current(), post)
    if (not post.is_open or holds.post_hidden(post.id)) and not manager:
        abort(404)
    return post, manager


@bp.route("/posts", methods=["GET"])
@bp.arguments(schemas.BrowseArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.PostPage)
@responses(401, 403, 429)
def browse(kind, sort, page, category=None, q="", near=None, within=None, urgency=None):
    """Open requests or offers: filters, sort orders, pages and search, as on the browse page."""
    origin = geo.viewer_origin(current(), near)
    filters = browse_service.BrowseFilters(kind=kind, category=category, q=q or "",
                                           within_miles=float(within) if within and origin else None, origin=origin,
                                           min_urgency=urgency, sort=sort, page=page,
                                           per_page=current_app.config["POSTS_PER_PAGE"])
    result = browse_service.browse(filters)
    return {"items": [present.post_summary(i.post, i.distance) for i in result.items], "total": result.total,
            "capped": result.capped, "page": result.page, "pages": result.pages}


@bp.route("/posts/<int:post_id>", methods=["GET"])
@bp.response(200, schemas.PostDetail)
@responses(401, 403, 404, 429)
def detail(post_id: int):
    """One post, as its page shows it."""
    post, _manager = visible_post(post_id)
    return present.post_detail(post, browse_service.public_distance(post, geo.viewer_origin(current())))


@bp.route("/posts/<int:post_id>/help", methods=["POST"])
@bp.arguments(schemas.HelpIn)
@bp.response(201, schemas.MatchOut)
@responses(401, 403, 404, 409, 422, 429)
def help_(data, post_id: int):
    """"I can help": propose one of your open offers for this request; a coordinator decides."""
    post, _manager = visible_post(post_id)
    if post.kind != "need":
        abort(404)
    try:
        match = match_service.volunteer(current(), post.id, data["offer_id"], data["note"])
    except ServiceError as err:
        fail(err, not_allowed=404)
    return present.match(current(), match)


# My posts ---------------------------------------------------------------------------------------

@bp.route("/me/posts", methods=["GET"])
@bp.response(200, schemas.MyPost(many=True))
@responses(401, 403, 429)
def mine():
    """My requests and offers, open ones first, with where matching stands."""
    posts = post_service.posts_of([current().id])
    by_post: dict[int, list[int]] = {}
    for m in match_queue.matches_for_posts([p.id for p in posts]):
        by_post.setdefault(m.need_id, []).append(m.id)
        by_post.setdefault(m.offer_id, []).append(m.id)
    return [present.my_post(p, by_post.get(p.id, [])) for p in posts]


@bp.route("/me/posts", methods=["POST"])
@bp.arguments(schemas.PostIn)
@bp.response(201, schemas.MyPost)
@responses(401, 403, 422, 429)
def create(data):
    """Post a request or an offer, with the same checks as the form."""
    post_input = PostInput(
        kind=data["kind"], category=data["category"], title=data["title"], details=data["details"],
        zip_code=data["zip_code"], street_address=data["street_address"], quantity=data["quantity"],
        urgency=data["urgency"], duration_min=data["duration_min"], flexible=data["flexible"],
        radius_miles=data["radius_miles"], offer_format=data["offer_format"], pickup_area=data["pickup_area"],
        destination_kind=data["destination_kind"], appointment_at=data["appointment_at"],
        return_trip=data["return_trip"],
        windows=[(w["start"], w["end"]) for w in data["windows"]],
        weekly=[(s["day"], s["start_min"], s["end_min"]) for s in data["weekly"]])
    try:
        post = post_service.create_post(current(), post_input)
    except ServiceError as err:
        db.session.rollback()
        fail(_field_names(err), plain=422)
    return present.my_post(post, [])


def _field_names(err: ServiceError) -> ServiceError:
    """The form's field names as the API calls them ("appointment_day" is "appointment_at";
    "windows-1" is the second of "windows")."""
    if err.field == "appointment_day":
        err.field = "appointment_at"
    elif err.field and "-" in err.field:
        err.field = err.field.replace("-", ".")
    return err


def managed_post(post_id: int) -> Post:
    """A post this account may change (its own; a coordinator's, any, as on the site's edit and
    close buttons: post_service.can_manage); 404 for any other, as for one that does not exist."""
    post = get_by_id(Post, post_id)
    if post is None or not post_service.can_manage(current(), post):
        abort(404)
    return post


def _my_post(post: Post) -> dict:
    return present.my_post(post, [m.id for m in match_queue.matches_for_posts([post.id])])


def _saved_input(post: Post) -> dict:
    """The post as its edit form is filled in (PostForm.fill_from): local wall-clock times, and
    what the API does not edit (a repeat rule, a way back, a fund purpose) kept as saved."""
    zone = community_zone()
    local = lambda value: utc_to_local(value, zone).replace(tzinfo=None)  # noqa: E731
    rule, return_time = repeat.repeat_input_of(post)
    return dict(
        kind=post.kind, category=post.category, title=post.title, details=post.details or "",
        zip_code=post.zip_code, street_address=post.street_address, quantity=post.quantity, urgency=post.urgency,
        duration_min=post.duration_min, flexible=bool(post.flexible), radius_miles=post.radius_miles,
        offer_format=post.offer_format, pickup_area=post.pickup_area, destination_kind=post.destination_kind,
        appointment_at=local(post.appointment_at) if post.appointment_at else None,
        return_trip=bool(post.return_trip), fund_purpose=post.fund_purpose,
        windows=[(local(w.start_at), local(w.end_at)) for w in post.windows],
        weekly=[(s.day, s.start_min, s.end_min) for s in post.weekly_slots], repeat=rule, return_time=return_time)


@bp.route("/me/posts/<int:post_id>", methods=["PATCH"])
@bp.arguments(schemas.PostEditIn)
@bp.response(200, schemas.MyPost)
@responses(401, 403, 404, 409, 422, 429)
def edit(data, post_id: int):
    """Change one of my open posts, with the same checks as the edit form: only the fields sent
    change (`windows` or `weekly`, when sent, replace all of them)."""
    post = managed_post(post_id)
    values = _saved_input(post)
    values.update({k: v for k, v in data.items() if k not in ("windows", "weekly")})
    if "windows" in data:
        values["windows"] = [(w["start"], w["end"]) for w in data["windows"]]
    if "weekly" in data:
        values["weekly"] = [(s["day"], s["start_min"], s["end_min"]) for s in data["weekly"]]
    try:
        post_service.update_post(current(), post, PostInput(**values))
    except ServiceError as err:
        db.session.rollback()
        err = _field_names(err)
        if err.field and err.field.partition(".")[0] not in schemas.PostEditIn().fields:
            # A rule of what the API does not edit (the saved repeat: "a match is under way for this
            # request", "the first date is a Monday"): a refusal, not a field to correct here.
            err = Conflict(err.message)
        fail(err, not_allowed=404)
    return _my_post(post)


def _close_action(post_id: int, action) -> dict:
    post = managed_post(post_id)
    try:
        action(current(), post)
    except ServiceError as err:
        db.session.rollback()
        fail(err, not_allowed=404)
    return _my_post(post)


@bp.route("/me/posts/<int:post_id>/withdraw", methods=["POST"])
@bp.response(200, schemas.MyPost)
@responses(401, 403, 404, 409, 429)
def withdraw(post_id: int):
    """Withdraw one of my posts (its approved matches are cancelled and the other person told)."""
    return _close_action(post_id, post_service.withdraw_post)


@bp.route("/me/posts/<int:post_id>/fulfilled", methods=["POST"])
@bp.response(200, schemas.MyPost)
@responses(401, 403, 404, 409, 429)
def fulfilled(post_id: int):
    """Mark one of my posts fulfilled: it closes, as withdrawing does, but as help received or given."""
    return _close_action(post_id, post_service.mark_fulfilled)


@bp.route("/me/posts/<int:post_id>/renew", methods=["POST"])
@bp.response(200, schemas.MyPost)
@responses(401, 403, 404, 409, 429)
def renew(post_id: int):
    """Keep one of my open posts up for another lifetime (as the expiry warning's link does)."""
    return _close_action(post_id, post_service.renew_post)
