"""My API tokens (/account/tokens): create one (named, read or write, shown once), see them, revoke.
On the `account` blueprint; the rules live in app/services/api_tokens.py."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from app.account.views import bp
from app.forms import BaseForm
from app.services import NotAllowed, ServiceError, api_tokens
from app.web import form_error


class TokenForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the token a name, so you know later what uses it.")),
                                               Length(max=api_tokens.MAX_NAME, message=_l("Keep the name under 60 characters."))],
                       description=_l("What will use it, e.g. \u201cmy phone app\u201d."))
    scope = RadioField(_l("It may"), choices=[("read", _l("Read only")), ("write", _l("Read and write: post, answer, join"))],
                       default="read", validators=[InputRequired(_l("Choose read only, or read and write."))])


class RevokeForm(BaseForm):
    """The CSRF token of a Revoke button."""


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    user = current_user._get_current_object()
    return render_template("account/tokens.html", form=form, revoke_form=RevokeForm(), new_token=new_token,
                           tokens=api_tokens.tokens_of(user), allowed=api_tokens.may_have_tokens(user)), status


@bp.route("/tokens", methods=["GET"])
def tokens():
    return _page(TokenForm())


@bp.route("/tokens", methods=["POST"])
def create_token():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            _token, raw = api_tokens.create(current_user._get_current_object(), form.name.data, form.scope.data)
        except NotAllowed:
            abort(403)
        except ServiceError as err:
            form_error(form, err)
        else:
            # Shown on this page once, never again: no redirect, and (as every page) Cache-Control: no-store.
            return _page(TokenForm(formdata=None), new_token=raw, status=201)
    return _page(form, status=422)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        api_tokens.revoke(current_user._get_current_object(), token_id)
    except NotAllowed:
        abort(404)
    flash(_("The token is revoked: it no longer works."), "success")
    return redirect(url_for("account.tokens"))
