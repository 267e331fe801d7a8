"""Coordinators' page of texts that need a person: replies nobody could read (mark them handled)
and requests for help texted in by residents (post them for the resident, or dismiss them)."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.coord.views import bp
from app.forms import BaseForm
from app.services import Conflict, NotAllowed, text_commands, text_requests
from app.web import roles_required


class TextActionForm(BaseForm):
    """Mark handled / dismiss: the button says which; only the CSRF token is checked."""


@bp.app_template_global("texts_waiting")
def texts_waiting() -> int:
    """For the queue page's header link: how many texts wait for a coordinator."""
    return text_commands.waiting_count()


@bp.route("/texts")
@roles_required("coordinator")
def texts():
    return render_template("coord/texts.html", replies=text_commands.unmatched(), requests=text_requests.queued())


def _checked_form() -> None:
    if not TextActionForm().validate_on_submit():
        abort(400)


@bp.route("/texts/<int:inbound_id>/handled", methods=["POST"])
@roles_required("coordinator")
def text_handled(inbound_id: int):
    _checked_form()
    try:
        done = text_commands.mark_handled(current_user, inbound_id)
    except NotAllowed:
        abort(404)
    flash(_("Marked as handled.") if done else _("Another coordinator already handled it."), "success" if done else "info")
    return redirect(url_for("coord.texts"))


@bp.route("/texts/requests/<int:request_id>/dismiss", methods=["POST"])
@roles_required("coordinator")
def text_request_dismiss(request_id: int):
    _checked_form()
    try:
        text_requests.dismiss(current_user, request_id)
    except NotAllowed:
        abort(404)
    except Conflict as err:
        abort(409, description=err.message)
    flash(_("The request is dismissed."), "success")
    return redirect(url_for("coord.texts") + "#requests")
