from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from app.forms import BaseForm
from app.validators import KnownZip


class SignupForm(BaseForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Tell us your name.")), Length(max=80)])
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")),
                                                Email(_l("Enter a valid email address."), check_deliverability=False),
                                                Length(max=254)])
    zip_code = StringField(_l("ZIP code (optional)"), validators=[Optional(), KnownZip()],
                           description=_l("Used to show how far requests are from you. Never shown to others."))
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password.")), Length(min=10, max=200, message=_l("Use at least 10 characters."))])
    confirm = PasswordField(_l("Repeat password"), validators=[DataRequired(_l("Repeat your password.")), EqualTo("password", _l("The passwords don't match."))])


class LoginForm(BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class ResetRequestForm(BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")),
                                                Email(_l("Enter a valid email address."), check_deliverability=False)])


class ResetPasswordForm(BaseForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password.")), Length(min=10, max=200, message=_l("Use at least 10 characters."))])
    confirm = PasswordField(_l("Repeat new password"), validators=[DataRequired(_l("Repeat your password.")), EqualTo("password", _l("The passwords don't match."))])


class ConfirmForm(BaseForm):
    """Only the CSRF token: confirming an email address, or asking for the link again."""
