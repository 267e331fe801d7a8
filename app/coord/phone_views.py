"""A resident's mobile number, added by a coordinator with the resident's consent, on the coord
blueprint: the coordinator types the number and ticks that the resident agreed to texts, a code
is texted to it, and the coordinator types the code the resident reads back. Only for someone
the coordinator answers for (a resident who cannot log in); anyone else adds their own number.
The rules are in app/services/phones.py."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.account.phone_forms import CodeForm, RemoveForm, ResidentNumberForm
from app.account.phone_views import phone_limit
from app.concerns.views import per_account
from app.coord.views import bp
from app.extensions import limiter
from app.ids import get_by_id
from app.models import User
from app.services import NotAllowed, ServiceError, phones
from app.web import form_error, roles_required


def _person(user_id: int) -> User:
    """404 for an unknown id and for anyone whose number this coordinator may not set."""
    person = get_by_id(User, user_id)
    if person is None or not phones.may_manage(current_user, person) or person.id == current_user.id:
        abort(404)
    return person


def _page(person: User, number_form=None, code_form=None, status: int = 200):
    code = phones.pending(person)
    if number_form is None:
        number_form = ResidentNumberForm(formdata=None, number=phones.display(code.number) if code else None)
    return render_template("coord/resident_phone.html", person=person, code=code, number_form=number_form,
                           code_form=code_form or CodeForm(), remove_form=RemoveForm()), status


# GET and POST on one rule: two rules on one path with an int converter make werkzeug answer 405, not 404, for a bad id.
@bp.route("/residents/<int:user_id>/phone", methods=["GET", "POST"])
@limiter.limit(phone_limit, key_func=per_account, methods=["POST"])
@roles_required("coordinator")
def resident_phone(user_id: int):
    """The page; its POST texts a code to the number typed, once the resident's consent is ticked."""
    person = _person(user_id)
    if request.method == "GET":
        return _page(person)
    form = ResidentNumberForm()
    if form.validate_on_submit():
        try:
            code = phones.request_code(current_user, person, form.number.data, consent=form.consent.data)
        except NotAllowed:
            abort(404)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("We texted a code to %(number)s. Ask %(name)s to read it to you.",
                    number=phones.display(code.number), name=person.first_name), "success")
            return redirect(url_for("coord.resident_phone", user_id=person.id) + "#enter-code")
    return _page(person, number_form=form, status=422)


@bp.route("/residents/<int:user_id>/phone/verify", methods=["POST"])
@limiter.limit(phone_limit, key_func=per_account)
@roles_required("coordinator")
def resident_phone_verify(user_id: int):
    person = _person(user_id)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            number = phones.verify(current_user, person, form.code.data)
        except NotAllowed:
            abort(404)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("%(name)s's mobile number %(number)s is confirmed.", name=person.first_name,
                    number=phones.display(number)), "success")
            if person.role == "resident":
                return redirect(url_for("coord.resident", user_id=person.id) + "#reach")
            return redirect(url_for("coord.resident_phone", user_id=person.id))
    return _page(person, code_form=form, status=422)


@bp.route("/residents/<int:user_id>/phone/remove", methods=["POST"])
@roles_required("coordinator")
def resident_phone_remove(user_id: int):
    person = _person(user_id)
    if not RemoveForm().validate_on_submit():
        abort(400)
    phones.remove(current_user, person)
    flash(_("The mobile number is removed. We send %(name)s no more texts.", name=person.first_name), "success")
    return redirect(url_for("coord.resident_phone", user_id=person.id))
