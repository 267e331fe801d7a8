"""Blocking: "Block this person" on a post page or one's own match page (a POST), and the member's
own blocks under /account, where each can be undone. No route takes a user id."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.safety.forms import ActionForm
from app.services import Conflict, NotAllowed
from app.services import blocks as block_service

bp = Blueprint("blocks", __name__)


def _run(action, back: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        action()
    except NotAllowed:
        abort(404)  # nothing says whether the post, match or block exists
    except Conflict as err:
        abort(409, description=err.message)
    flash(_("You blocked this person. You won't be matched with them, and neither of you can join a group the "
            "other hosts; they are not told. "
            "You can undo it on your blocks page."), "success")
    return redirect(back)


@bp.route("/posts/<int:post_id>/block", methods=["POST"])
def block_post(post_id: int):
    return _run(lambda: block_service.block_post_owner(current_user, post_id), url_for("blocks.index"))


@bp.route("/matches/<int:match_id>/block", methods=["POST"])
def block_match(match_id: int):
    return _run(lambda: block_service.block_match_partner(current_user, match_id), url_for("blocks.index"))


@bp.route("/account/blocks")
def index():
    """The member's own blocks, each named by what they blocked through (a post's title)."""
    return render_template("blocks/index.html", blocks=block_service.blocks_of(current_user), form=ActionForm())


@bp.route("/account/blocks/<int:block_id>/undo", methods=["POST"])
def undo(block_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        block_service.unblock(current_user, block_id)
    except NotAllowed:
        abort(404)
    flash(_("The block is undone."), "success")
    return redirect(url_for("blocks.index"))
