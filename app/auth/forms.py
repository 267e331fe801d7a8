from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from app.forms import BaseForm
from app.validators import KnownZip


class SignupForm(BaseForm):
    name = StringField("Your name", validators=[DataRequired("Tell us your name."), Length(max=80)])
    email = EmailField("Email", validators=[DataRequired("Enter your email address."),
                                            Email("Enter a valid email address.", check_deliverability=False),
                                            Length(max=254)])
    zip_code = StringField("ZIP code (optional)", validators=[Optional(), KnownZip()],
                           description="Used to show how far requests are from you. Never shown to others.")
    password = PasswordField("Password", validators=[DataRequired("Choose a password."), Length(min=10, max=200, message="Use at least 10 characters.")])
    confirm = PasswordField("Repeat password", validators=[DataRequired("Repeat your password."), EqualTo("password", "The passwords don't match.")])


class LoginForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ResetRequestForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."),
                                            Email("Enter a valid email address.", check_deliverability=False)])


class ResetPasswordForm(BaseForm):
    password = PasswordField("New password", validators=[DataRequired("Choose a password."), Length(min=10, max=200, message="Use at least 10 characters.")])
    confirm = PasswordField("Repeat new password", validators=[DataRequired("Repeat your password."), EqualTo("password", "The passwords don't match.")])


class ConfirmForm(BaseForm):
    """Only the CSRF token: confirming an email address, or asking for the link again."""
