"""My data, on the account blueprint: download it (a page and a JSON file), delete the account.

A coordinator can do both for a resident who leaves (from the resident's case page), confirming
with their own password. The rules are in app/services/data_export.py and erasure.py.
"""
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from app.account.data_forms import DeleteAccountForm
from app.account.views import bp
from app.ids import get_by_id
from app.models import User
from app.models.fund import PLEDGE_FREQUENCIES, PURPOSES, REQUEST_STATES
from app.models.groups import SEAT_LABELS
from app.models.mail import DIGEST_FREQUENCIES
from app.models.matches import MATCH_STATES
from app.models.posts import STATUS_LABELS
from app.models.repeat import OCCURRENCE_STATES
from app.models.users import CONTACT_METHODS
from app.services import Conflict, NotAllowed, ServiceError, data_export, erasure
from app.web import form_error, roles_required


def _attachment(body: str, filename: str):
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# The words for the codes the document holds, in the reader's language.
LABELS = {"post": STATUS_LABELS, "match": MATCH_STATES, "seat": SEAT_LABELS, "fund": REQUEST_STATES, "purpose": PURPOSES,
          "pledge": PLEDGE_FREQUENCIES, "frequency": DIGEST_FREQUENCIES, "occurrence": OCCURRENCE_STATES,
          "contact": CONTACT_METHODS}


@bp.route("/data")
def my_data():
    user = current_user._get_current_object()
    return render_template("account/data.html", doc=data_export.export_for(user, user), person=user, labels=LABELS)


@bp.route("/data.json")
def my_data_json():
    user = current_user._get_current_object()
    return _attachment(*data_export.download(user, user))


def _delete_page(person: User, form: DeleteAccountForm, status: int = 200):
    return render_template("account/delete.html", form=form, person=person,
                           for_other=person.id != current_user.id), status


def _delete(person: User):
    """The POST of either delete form: the service decides who may; errors stay beside the field."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _delete_page(person, form, 422)
    own = person.id == current_user.id
    try:
        erasure.delete_account(current_user._get_current_object(), person, form.password.data)
    except NotAllowed:
        abort(403)
    except Conflict as err:
        form.form_errors.append(err.message)
        return _delete_page(person, form, 409)
    except ServiceError as err:
        form_error(form, err)
        return _delete_page(person, form, 422)
    if own:
        logout_user()
        flash(_("Your account is deleted. Thank you for being part of the exchange."), "success")
        return redirect(url_for("main.index"))
    flash(_("The resident's account is deleted."), "success")
    return redirect(url_for("coord.residents"))


@bp.route("/delete")
def confirm_delete():
    return _delete_page(current_user._get_current_object(), DeleteAccountForm())


@bp.route("/delete", methods=["POST"])
def delete():
    return _delete(current_user._get_current_object())


def _resident(user_id: int) -> User:
    person = get_by_id(User, user_id)
    if person is None or person.role != "resident" or person.deleted_at is not None:
        abort(404)
    return person


@bp.route("/residents/<int:user_id>/data.json")
@roles_required("coordinator")
def resident_data_json(user_id: int):
    person = _resident(user_id)
    try:
        return _attachment(*data_export.download(current_user._get_current_object(), person))
    except NotAllowed:
        abort(403)


@bp.route("/residents/<int:user_id>/delete")
@roles_required("coordinator")
def confirm_delete_resident(user_id: int):
    return _delete_page(_resident(user_id), DeleteAccountForm())


# Its own path: two rules on one path with an int converter make werkzeug answer 405, not 404, for a bad id.
@bp.route("/residents/<int:user_id>/erase", methods=["POST"])
@roles_required("coordinator")
def delete_resident(user_id: int):
    return _delete(_resident(user_id))
