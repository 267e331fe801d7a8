from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import fragments
from app.extensions import db
from app.models import Post, User
from app.models.posts import MONEY_CATEGORY, POST_CATEGORIES
from app.matches.forms import HelpForm
from app.posts.forms import BrowseForm, PostForm
from app.services import Conflict, NotAllowed, ServiceError, geo, holds
from app.services import matches as match_service
from app.services import match_queue
from app.services import browse as browse_service
from app.services import posts as post_service
from app.services import occurrences as occurrence_service
from app.services import repeat as repeat_service
from app.timeutil import community_zone
from app.texts import prefill
from app.web import board, form_error, public, safe_next

bp = Blueprint("posts", __name__)



@bp.route("/browse")
@public
@board
def browse():
    form = BrowseForm(request.args)
    form.validate()  # each filter below is used only if its own field is valid
    ok = lambda field: field.data not in (None, "") and not field.errors  # noqa: E731
    origin = geo.viewer_origin(current_user, form.near.data.strip() if ok(form.near) else None)
    filters = browse_service.BrowseFilters(
        kind=form.kind.data if form.kind.data in ("need", "offer") else "need",
        category=form.category.data if ok(form.category) else None,
        q=form.q.data if ok(form.q) else "",
        within_miles=float(form.within.data) if ok(form.within) and origin else None,
        origin=origin,
        min_urgency=int(form.urgency.data) if ok(form.urgency) else None,
        sort=form.sort.data if form.sort.data in browse_service.SORTS else "urgency",
        page=form.page.data if ok(form.page) else 1,
        per_page=current_app.config["POSTS_PER_PAGE"],
    )
    result = browse_service.browse(filters)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    # Shown on the folded "Filters" button: how many of the filters in use change what a bare /browse shows.
    active_filters = sum(map(bool, (filters.category, filters.q, ok(form.near), filters.within_miles,
                                    filters.kind == "need" and filters.min_urgency, filters.sort != "urgency")))
    return render_template("posts/browse.html", result=result, filters=filters, args=args,
                           filters_html=fragments.browse_filters(form, origin is not None, active_filters, filters.kind))


def _get_post(post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        abort(404)
    return post


@bp.route("/posts/<int:post_id>")
@public
@board
def detail(post_id: int):
    post = _get_post(post_id)
    manager = current_user.is_authenticated and post_service.can_manage(current_user, post)
    hidden = holds.post_hidden(post.id)  # a safety report: nobody but its owner and coordinators, until they act
    if (not post.is_open or hidden) and not manager:
        abort(404)
    distance = browse_service.public_distance(post, geo.viewer_origin(current_user))
    rows = occurrence_service.rows_for(current_user, post) if manager and post.repeats else []
    return render_template("posts/detail.html", post=post, manager=manager, distance=distance,
                           is_owner=current_user.is_authenticated and post.owner_id == current_user.id,
                           occurrence_rows=rows, repeat_text=repeat_service.describe(post), hidden=hidden,
                           **_help_context(post, manager))


def _help_context(post: Post, manager: bool, form: HelpForm | None = None) -> dict:
    """What the "I can help" box and the owner's match status need."""
    ctx = {"help_form": None, "my_offers": [], "status_line": "", "post_matches": []}
    if manager:
        ctx["status_line"] = match_queue.looking_for(post) if post.kind == "need" else ""
        ctx["post_matches"] = match_queue.matches_for_posts([post.id])
    if post.kind == "need" and post.is_open and current_user.is_authenticated and post.owner_id != current_user.id:
        offers = post_service.open_offers_of(current_user.id, post.category)
        form = form or HelpForm()
        form.offer_id.choices = [(o.id, o.title) for o in offers]
        ctx.update(help_form=form, my_offers=offers)
    return ctx


@bp.route("/posts/<int:post_id>/help", methods=["POST"])
def help_(post_id: int):
    """ "I can help": a proposal for coordinators, with the same checks as the engine's."""
    post = _get_post(post_id)
    if post.kind != "need" or holds.post_hidden(post.id) and not post_service.can_manage(current_user, post):
        abort(404)
    form = HelpForm()
    manager = post_service.can_manage(current_user, post)
    context = _help_context(post, manager, form)
    if form.validate_on_submit():
        try:
            before = match_service.pending_pair(post.id, form.offer_id.data)
            match_service.volunteer(current_user, post.id, form.offer_id.data, form.note.data)
        except Conflict as err:
            abort(409, description=err.message)
        except NotAllowed:
            abort(404)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Thank you! Your offer was already suggested to the coordinators; we added your note to it.")
                  if before else _("Thank you! A coordinator will look at your offer to help and let you both know."),
                  "success")
            return redirect(url_for("posts.detail", post_id=post.id))
    return render_template("posts/detail.html", post=post, manager=manager,
                           distance=browse_service.public_distance(post, geo.viewer_origin(current_user)),
                           is_owner=post.owner_id == current_user.id, **context), 422


def add_time_row(form: PostForm) -> bool:
    """The form's "Add another time" buttons (plain submit buttons, so they work without script):
    the same form again with everything typed kept and one more empty row, up to the most allowed.
    Nothing is validated or saved, so no errors show. True when one of them was pressed."""
    for button, rows in (("add_slot", form.weekly), ("add_window", form.windows)):
        if button in request.form:
            if len(rows.entries) < rows.max_entries:
                rows.append_entry()
            return True
    return False


CATEGORY_ARGS = {"", *POST_CATEGORIES}


def _empty_form(kind: str) -> PostForm:
    """The new-post form as a GET shows it before the member's ZIP goes in: the category the link
    asked for, if it is one."""
    form = PostForm()
    form.meta_kind = kind
    if request.args.get("category") in dict(form.category.choices):
        form.category.data = request.args["category"]
    return form


def new_post_page(kind: str, owner: User | None, template_args: dict):
    """The new-post form for the current user, or for `owner` when a coordinator posts for a resident."""
    if not current_user.is_confirmed:
        return render_template("posts/confirm_first.html", kind=kind), 403
    from_text = prefill.text_request_for(kind, owner)  # ?from_text=<id>: a request texted in
    # An unknown category shows the form without one, but is not kept as a page of its own.
    category = request.args.get("category", "")
    if request.method == "GET" and owner is None and from_text is None and category in CATEGORY_ARGS:
        html = fragments.new_post_form(kind, category, current_user.zip_code, lambda: _empty_form(kind))
        if html is not None:
            return render_template("posts/form.html", form_html=html, kind=kind, editing=False, **template_args)
    form = _empty_form(kind) if request.method == "GET" else PostForm()
    form.meta_kind = kind
    if request.method == "GET":
        form.zip_code.data = (owner or current_user).zip_code
        if from_text is not None:
            prefill.fill(form, from_text)
    adding = request.method == "POST" and add_time_row(form)
    if not adding and form.validate_on_submit():
        try:
            post = post_service.create_post(current_user, form.to_input(kind), owner=owner)
        except NotAllowed:
            abort(403)
        except ServiceError as err:
            form_error(form, err)
        else:
            prefill.posted(from_text, post)
            flash(_("Your request is posted. We're looking for a match.") if kind == "need"
                  else _("Thank you! Your offer is posted."), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("posts.detail", post_id=post.id))
    return render_template("posts/form.html", form=form, kind=kind, editing=False, **template_args), (200 if request.method == "GET" or not form.errors else 422)


@bp.route("/posts/new", methods=["GET", "POST"])
def new():
    kind = request.args.get("kind", "need")
    if kind not in ("need", "offer"):
        abort(404)
    if request.args.get("category") == MONEY_CATEGORY:
        # Money is never a post: asking goes to the fund's request form, giving to a pledge.
        if kind == "need" and current_user.role == "resident":
            return redirect(url_for("fund.new_request"))
        flash(_("Money goes through the emergency fund: pledge to it below.") if kind == "offer" else
              _("Money goes through the emergency fund: a coordinator can help you ask it for help with a bill."), "info")
        return redirect(url_for("fund.index") + ("#pledge" if kind == "offer" else ""))
    return new_post_page(kind, None, {"owner": None})


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
def edit(post_id: int):
    post = _get_post(post_id)
    if not post_service.can_manage(current_user, post):
        abort(403)
    if not post.is_open:
        flash(_("This post is closed and can no longer be edited."), "info")
        return redirect(url_for("posts.detail", post_id=post.id))
    form = PostForm()
    form.meta_kind = post.kind
    if request.method == "GET":
        form.fill_from(post, community_zone())
    elif not add_time_row(form) and form.validate_on_submit():
        try:
            post_service.update_post(current_user, post, form.to_input(post.kind))
        except NotAllowed:
            abort(403)
        except ServiceError as err:
            db.session.rollback()
            form_error(form, err)
        else:
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("posts.detail", post_id=post.id))
    return render_template("posts/form.html", form=form, kind=post.kind, editing=True, post=post, owner=None)


def _close_action(post_id: int, action, done_message: str):
    post = _get_post(post_id)
    try:
        action(current_user, post)
    except NotAllowed:
        abort(403)
    except ServiceError as err:
        abort(409, description=err.message)
    flash(done_message, "success")
    return redirect(safe_next(request.form.get("next")) or url_for("posts.mine"))


@bp.route("/posts/<int:post_id>/withdraw", methods=["POST"])
def withdraw(post_id: int):
    return _close_action(post_id, post_service.withdraw_post, _("The post is withdrawn."))


@bp.route("/posts/<int:post_id>/fulfilled", methods=["POST"])
def fulfilled(post_id: int):
    return _close_action(post_id, post_service.mark_fulfilled, _("Marked as fulfilled. Thank you!"))


@bp.route("/posts/<int:post_id>/renew", methods=["POST"])
def renew(post_id: int):
    return _close_action(post_id, post_service.renew_post, _("The post stays up for another while."))


@bp.route("/posts/mine")
def mine():
    posts = post_service.posts_of([current_user.id])
    by_post: dict[int, list] = {}
    for m in match_queue.matches_for_posts([p.id for p in posts]):
        by_post.setdefault(m.need_id, []).append(m)
        by_post.setdefault(m.offer_id, []).append(m)
    return render_template("posts/mine.html", posts=posts, matches=by_post)
