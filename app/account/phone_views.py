"""My mobile number for texts, on the account blueprint: add it (a code is texted to it), type the
code back, remove it. The rules are in app/services/phones.py; the coordinator's pages for a
resident's number are in app/coord/phone_views.py."""
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.account.phone_forms import CodeForm, NumberForm, RemoveForm
from app.account.views import bp
from app.concerns.views import per_account
from app.extensions import limiter
from app.models import User
from app.services import NotAllowed, ServiceError, phones
from app.web import form_error


@bp.app_template_filter("phone_number")
def phone_number(e164: str | None) -> str:
    """A stored E.164 number as people write it: "(651) 555-0142"."""
    return phones.display(e164)


def phone_limit() -> str:
    return current_app.config["PHONE_RATE_LIMIT"]


def _page(user: User, number_form=None, code_form=None, status: int = 200):
    code = phones.pending(user)
    if number_form is None:  # after asking, the number asked for is there to ask again
        number_form = NumberForm(formdata=None, number=phones.display(code.number) if code else None)
    return render_template("account/phone.html", person=user, code=code, number_form=number_form,
                           code_form=code_form or CodeForm(), remove_form=RemoveForm()), status


@bp.route("/phone")
def phone():
    return _page(current_user._get_current_object())


@bp.route("/phone", methods=["POST"])
@limiter.limit(phone_limit, key_func=per_account)
def phone_send_code():
    user = current_user._get_current_object()
    form = NumberForm()
    if form.validate_on_submit():
        try:
            code = phones.request_code(user, user, form.number.data)
        except NotAllowed:
            abort(404)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("We texted a code to %(number)s. Type it below.", number=phones.display(code.number)), "success")
            return redirect(url_for("account.phone") + "#enter-code")
    return _page(user, number_form=form, status=422)


@bp.route("/phone/verify", methods=["POST"])
@limiter.limit(phone_limit, key_func=per_account)
def phone_verify():
    user = current_user._get_current_object()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            number = phones.verify(user, user, form.code.data)
        except NotAllowed:
            abort(404)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Your mobile number %(number)s is confirmed. Choose below which notices come by text.",
                    number=phones.display(number)), "success")
            return redirect(url_for("account.notices"))
    return _page(user, code_form=form, status=422)


@bp.route("/phone/remove", methods=["POST"])
def phone_remove():
    user = current_user._get_current_object()
    if not RemoveForm().validate_on_submit():
        abort(400)
    phones.remove(user, user)
    flash(_("Your mobile number is removed. We send you no more texts."), "success")
    return redirect(url_for("account.phone"))
