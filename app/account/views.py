from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from app.account.forms import PasswordForm, ProfileForm
from app.services import ServiceError, accounts
from app.web import form_error

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/", methods=["GET", "POST"])
def profile():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user if request.method == "GET" else None)
    password_form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            accounts.update_profile(user, form.name.data, form.zip_code.data, form.phone.data)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash("Your profile is saved.", "success")
            return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form, password_form=password_form)


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
            flash("Your password is changed. Other devices have been logged out.", "success")
            return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form, password_form=password_form), 422
