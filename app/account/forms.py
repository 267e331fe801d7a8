from wtforms import BooleanField, FloatField, PasswordField, RadioField, SelectMultipleField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import BaseForm
from app.models.mail import DIGEST_FREQUENCIES
from app.models.posts import POST_CATEGORIES
from app.models.users import CONTACT_METHODS
from app.validators import KnownZip


class ProfileForm(BaseForm):
    name = StringField("Your name", validators=[DataRequired("Tell us your name."), Length(max=80)])
    zip_code = StringField("ZIP code", validators=[Optional(), KnownZip()],
                           description="Used for distances. Never shown to others.")
    phone = TelField("Phone (optional)", validators=[Optional(), Length(max=30), Regexp(r"^[0-9+().\- ]+$", message="Use digits, spaces and + ( ) - only.")],
                     description="Shared only with a matched person after a coordinator approves, if you choose it below.")
    contact_method = RadioField("How people you are matched with reach you", choices=list(CONTACT_METHODS.items()),
                                default="email", validators=[InputRequired("Choose one.")])
    contact_name = StringField("Contact person's name", validators=[Optional(), Length(max=80)])
    contact_detail = StringField("Their email or phone", validators=[Optional(), Length(max=120)])


class PasswordForm(BaseForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new_password = PasswordField("New password", validators=[DataRequired("Choose a password."), Length(min=10, max=200, message="Use at least 10 characters.")])
    confirm = PasswordField("Repeat new password", validators=[DataRequired("Repeat your password."), EqualTo("new_password", "The passwords don't match.")])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DigestForm(BaseForm):
    frequency = RadioField("How often", choices=list(DIGEST_FREQUENCIES.items()), default="weekly",
                           validators=[InputRequired("Choose how often.")])
    follow_offers = BooleanField("The categories of my own offers (every category while I have none)", default=True)
    categories = MultiCheckboxField("Or these categories", choices=list(POST_CATEGORIES.items()), validate_choice=True)
    radius_miles = FloatField("How far from my place (miles)", default=10.0,
                              validators=[InputRequired("Enter a distance in miles."),
                                          NumberRange(0.5, 100, "Enter a distance between 0.5 and 100 miles.")])
