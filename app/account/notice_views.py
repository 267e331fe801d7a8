"""How each kind of notice reaches me: email, text, both or neither (app/services/notify.py).

A member chooses for themselves at /account/notices; a coordinator chooses for a member who cannot
log in from that member's resident page (the same form)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.account.views import bp
from app.extensions import db
from app.forms import BaseForm
from app.models import User
from app.services import ServiceError, notify
from app.web import roles_required


class NoticeForm(BaseForm):
    """The CSRF token; the boxes are one pair per kind (<kind>-email, <kind>-text)."""


def _posted() -> dict[str, dict[str, bool]]:
    return {key: {"email": request.form.get(f"{key}-email") == "on", "text": request.form.get(f"{key}-text") == "on"}
            for key in notify.KINDS}


def _page(user: User, action: str, choices: dict, error: str | None = None, status: int = 200):
    return render_template("account/notices.html", person=user, form=NoticeForm(), action=action, choices=choices,
                           kinds=notify.KINDS, reach=notify.reach_of(user), error=error,
                           for_self=user.id == current_user.id), status


def _save(user: User, action: str, done_url: str):
    form = NoticeForm()
    if not form.validate_on_submit():
        abort(400)
    choices = _posted()
    try:
        notify.save_choices(current_user._get_current_object(), user, choices)
    except ServiceError as err:
        db.session.rollback()
        return _page(user, action, choices, err.message, 422)
    flash(_("How we reach you is saved.") if user.id == current_user.id else _("How we reach them is saved."), "success")
    return redirect(done_url)


@bp.route("/notices", methods=["GET", "POST"])
def notices():
    user = current_user._get_current_object()
    action = url_for("account.notices")
    if request.method == "POST":
        return _save(user, action, action)
    return _page(user, action, notify.chosen(user))


@bp.route("/for/<int:user_id>/notices", methods=["GET", "POST"])
@roles_required("coordinator", "admin")
def notices_for(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at or not notify.may_choose_for(current_user, user):
        abort(404)
    action = url_for("account.notices_for", user_id=user.id)
    if request.method == "POST":
        return _save(user, action, url_for("coord.resident", user_id=user.id))
    return _page(user, action, notify.chosen(user))
