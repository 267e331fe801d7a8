from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from app.account.forms import DigestForm, PasswordForm, ProfileForm
from app.services import ServiceError, accounts, digests
from app.web import form_error

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/", methods=["GET", "POST"])
def profile():
    user = current_user._get_current_object()
    # A post without the language field (an older page) keeps the saved language.
    form = ProfileForm(obj=user if request.method == "GET" else None, language=user.language)
    password_form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            accounts.update_profile(user, form.name.data, form.zip_code.data, form.phone.data, form.contact_method.data,
                                    form.contact_name.data, form.contact_detail.data, language=form.language.data)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("account.profile"))
    return _page(form, password_form)


def _digest_form(formdata=None) -> DigestForm:
    """The digest form, filled from the member's saved subscription unless a POST is being shown."""
    form = DigestForm(formdata=formdata, prefix="dg")
    if formdata is None:
        sub = digests.settings_of(current_user._get_current_object())
        form.frequency.data = sub.frequency
        form.follow_offers.data = sub.categories is None
        form.categories.data = list(sub.categories or [])
        form.radius_miles.data = sub.radius_miles
    return form


def _page(form, password_form, digest_form=None, status=200):
    user = current_user._get_current_object()
    digest_form = digest_form or _digest_form()
    return render_template("account/profile.html", form=form, password_form=password_form, digest_form=digest_form,
                           offer_categories=digests.offer_categories(user.id)), status


@bp.route("/digest", methods=["POST"])
def digest():
    user = current_user._get_current_object()
    form = DigestForm(prefix="dg")
    if form.validate_on_submit():
        try:
            digests.update_subscription(user, form.frequency.data,
                                        None if form.follow_offers.data else form.categories.data,
                                        form.radius_miles.data)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Your email settings are saved."), "success")
            return redirect(url_for("account.profile"))
    return _page(ProfileForm(obj=user), PasswordForm(prefix="pw"), form, 422)


@bp.route("/password", methods=["POST"])
def password():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    password_form = PasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            accounts.change_password(user, password_form.current_password.data, password_form.new_password.data)
        except ServiceError as err:
            form_error(password_form, err)
        else:
            login_user(user)  # this session continues with the new token; all others end
            flash(_("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("account.profile"))
    return _page(form, password_form, status=422)
