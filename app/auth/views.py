from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth.forms import ConfirmForm, LoginForm, ResetPasswordForm, ResetRequestForm, SignupForm
from app.extensions import limiter
from app.services import ServiceError, accounts, settings
from app.web import form_error, public, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def _confirm_url(token: str) -> str:
    return url_for("auth.confirm", token=token, _external=True)


@bp.route("/signup", methods=["GET", "POST"])
@public
@limiter.limit(_signup_limit, methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            accounts.sign_up(form.name.data, form.email.data, form.password.data, form.zip_code.data, _confirm_url,
                             login_url=url_for("auth.login", _external=True),
                             reset_url=url_for("auth.reset_request", _external=True))
        except ServiceError as err:
            form_error(form, err)
        else:
            # The same page for a new and a known address: the email says which it was.
            return render_template("auth/check_email.html", email=accounts.normalize_email(form.email.data),
                                   members_only=settings.board_members_only())
    return render_template("auth/signup.html", form=form), (422 if form.errors else 200)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public
def confirm(token: str):
    """The link from the sign-up email: a GET shows a button (mail scanners open links), the POST confirms."""
    try:
        user = accounts.user_for_confirm_token(token)
    except ServiceError as err:
        return render_template("errors/error.html", code=400, title=_("That link doesn't work"), message=err.message), 400
    form = ConfirmForm()
    if form.validate_on_submit():
        accounts.confirm_email(token)
        flash(_("Thank you: your email is confirmed. You can post and offer help now."), "success")
        if current_user.is_authenticated and current_user.id == user.id:
            return redirect(url_for("main.index"))
        return redirect(url_for("auth.login"))
    return render_template("auth/confirm.html", form=form, confirmed=user.is_confirmed)


@bp.route("/confirm/resend", methods=["POST"])
def resend_confirmation():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.resend_confirmation(current_user._get_current_object(), _confirm_url)
    flash(_("We sent the link again. It works for 7 days."), "info")
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append(_("That email and password don't match an account."))
        else:
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    user = current_user._get_current_object()
    session["lang"] = user.language  # this browser stays in their language once they are a visitor again
    accounts.end_sessions(user)
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/reset", methods=["GET", "POST"])
@public
@limiter.limit(_reset_limit, methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data,
                                        lambda token: url_for("auth.reset_password", token=token, _external=True))
        return render_template("auth/reset_sent.html")
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_reset_limit, methods=["POST"])
def reset_password(token: str):
    try:
        accounts.user_for_reset_token(token)
    except ServiceError as err:
        return render_template("auth/reset_invalid.html", message=err.message), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Your password has been changed. Please log in."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)
