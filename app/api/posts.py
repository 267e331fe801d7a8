"""Posts over the API: browse and search, one post, my posts (list, post, withdraw), "I can help".

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
from app.services import ServiceError, geo, holds
from app.services import browse as browse_service
from app.services import match_queue
from app.services import matches as match_service
from app.services import posts as post_service
from app.services.posts import PostInput

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


@bp.route("/me/posts/<int:post_id>/withdraw", methods=["POST"])
@bp.response(200, schemas.MyPost)
@responses(401, 403, 404, 409, 429)
def withdraw(post_id: int):
    """Withdraw one of my posts (its approved matches are cancelled and the other person told)."""
    post = get_by_id(Post, post_id)
    if post is None or not post_service.can_manage(current(), post):
        abort(404)
    try:
        post_service.withdraw_post(current(), post)
    except ServiceError as err:
        fail(err)
    return present.my_post(post, [m.id for m in match_queue.matches_for_posts([post.id])])

