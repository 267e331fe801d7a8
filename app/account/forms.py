from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from app.validators import KnownZip


class ProfileForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Tell us your name."), Length(max=80)])
    zip_code = StringField("ZIP code", validators=[Optional(), KnownZip()],
                           description="Used for distances. Never shown to others.")
    phone = TelField("Phone (optional)", validators=[Optional(), Length(max=30), Regexp(r"^[0-9+().\- ]+$", message="Use digits, spaces and + ( ) - only.")],
                     description="Shared only with a matched person after a coordinator approves.")


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new_password = PasswordField("New password", validators=[DataRequired("Choose a password."), Length(min=10, max=200, message="Use at least 10 characters.")])
    confirm = PasswordField("Repeat new password", validators=[DataRequired("Repeat your password."), EqualTo("new_password", "The passwords don't match.")])
