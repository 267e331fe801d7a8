"""Who joins a members-only board: the coordinators' list of new accounts, invitations, and
signing up through an invitation link."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from app.extensions import limiter
from app.membership.forms import DecisionForm, InvitedSignupForm, InviteForm
from app.services import Conflict, NotAllowed, ServiceError, invitations, membership, settings
from app.web import form_error, public, roles_required

bp = Blueprint("membership", __name__)


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def _invitation_url(token: str) -> str:
    return url_for("membership.join", token=token, _external=True)


def _page(invite_form: InviteForm, status: int = 200):
    actor = current_user._get_current_object()
    return render_template("membership/new_members.html", waiting=membership.waiting(actor),
                           invitations=invitations.open_invitations(actor), expires_at=invitations.expires_at,
                           members_only=settings.board_members_only(), invite_form=invite_form,
                           decision_form=DecisionForm(), days=invitations.INVITATION_DAYS), status


@bp.route("/coordinate/new-members")
@roles_required("coordinator")
def new_members():
    return _page(InviteForm(formdata=None))


@bp.route("/coordinate/new-members/<int:user_id>/approve", methods=["POST"])
@roles_required("coordinator")
def approve(user_id: int):
    return _decide(lambda actor: membership.approve(actor, user_id, url_for("posts.browse", _external=True)),
                   lambda user: _("%(name)s is approved; we emailed them.", name=user.name))


@bp.route("/coordinate/new-members/<int:user_id>/decline", methods=["POST"])
@roles_required("coordinator")
def decline(user_id: int):
    return _decide(lambda actor: membership.decline(actor, user_id),
                   lambda user: _("%(name)s is declined; we emailed them.", name=user.name))


def _decide(action, done):
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        user = action(current_user._get_current_object())
    except NotAllowed:
        abort(404)  # no such account waiting: the id says nothing more
    except Conflict as err:
        abort(409, description=err.message)
    flash(done(user), "success")
    return redirect(url_for("membership.new_members"))


@bp.route("/coordinate/invitations", methods=["POST"])
@roles_required("coordinator")
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitations.invite(current_user._get_current_object(), form.email.data, _invitation_url)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("The invitation is on its way. The link works once, for %(days)s days.", days=invitations.INVITATION_DAYS), "success")
            return redirect(url_for("membership.new_members"))
    return _page(form, 422)


@bp.route("/auth/invitation/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_signup_limit, methods=["POST"])
def join(token: str):
    """The link from an invitation email: a sign-up form for the invited address."""
    try:
        invitation = invitations.invitation_for_token(token)
    except ServiceError as err:
        return render_template("errors/error.html", code=400, title=_("That link doesn't work"), message=err.message), 400
    if current_user.is_authenticated:
        flash(_("You are logged in already. Log out first to use this invitation."), "info")
        return redirect(url_for("main.index"))
    form = InvitedSignupForm()
    if form.validate_on_submit():
        try:
            user, created = invitations.sign_up(token, form.name.data, form.password.data, form.zip_code.data)
        except Conflict as err:
            return render_template("errors/error.html", code=409, title=_("That can't be done now"), message=err.message), 409
        except ServiceError as err:
            if err.field is None:  # the link stopped working meanwhile (used by someone else)
                return render_template("errors/error.html", code=400, title=_("That link doesn't work"), message=err.message), 400
            form_error(form, err)
        else:
            if not created:
                flash(_("You already have an account with this address, and it is approved now. Please log in."), "success")
                return redirect(url_for("auth.login"))
            login_user(user)
            flash(_("Welcome! Your account is ready: you can post and offer help now."), "success")
            return redirect(url_for("main.index"))
    return render_template("membership/join.html", form=form, email=invitation.email), (422 if form.errors else 200)
