from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FloatField, PasswordField, RadioField, SelectField, SelectMultipleField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import BaseForm
from app.i18n import LANGUAGES
from app.models.mail import DIGEST_FREQUENCIES
from app.models.posts import POST_CATEGORIES
from app.models.users import CONTACT_METHODS
from app.validators import KnownZip


class ProfileForm(BaseForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Tell us your name.")), Length(max=80)])
    zip_code = StringField(_l("ZIP code"), validators=[Optional(), KnownZip()],
                           description=_l("Used for distances. Never shown to others."))
    phone = TelField(_l("Phone (optional)"), validators=[Optional(), Length(max=30), Regexp(r"^[0-9+().\- ]+$", message=_l("Use digits, spaces and + ( ) - only."))],
                     description=_l("Shared only with a matched person after a coordinator approves, if you choose it below."))
    contact_method = RadioField(_l("How people you are matched with reach you"), choices=list(CONTACT_METHODS.items()),
                                default="email", validators=[InputRequired(_l("Choose one."))])
    contact_name = StringField(_l("Contact person's name"), validators=[Optional(), Length(max=80)])
    contact_detail = StringField(_l("Their email or phone"), validators=[Optional(), Length(max=120)])
    # Each language by its own name (not translated), marked with its code for screen readers.
    language = SelectField(_l("Language"), choices=[SelectChoice(code, name, {"lang": code}) for code, name in LANGUAGES.items()],
                           default="en", invalid_choice_message=_l("Choose one of the languages offered."),
                           description=_l("Pages and the emails and texts we send you are in this language."))


class PasswordForm(BaseForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password."))])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password.")), Length(min=10, max=200, message=_l("Use at least 10 characters."))])
    confirm = PasswordField(_l("Repeat new password"), validators=[DataRequired(_l("Repeat your password.")), EqualTo("new_password", _l("The passwords don't match."))])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DigestForm(BaseForm):
    frequency = RadioField(_l("How often"), choices=list(DIGEST_FREQUENCIES.items()), default="weekly",
                           validators=[InputRequired(_l("Choose how often."))])
    follow_offers = BooleanField(_l("The categories of my own offers (every category while I have none)"), default=True)
    categories = MultiCheckboxField(_l("Or these categories"), choices=list(POST_CATEGORIES.items()), validate_choice=True)
    radius_miles = FloatField(_l("How far from my place (miles)"), default=10.0,
                              validators=[InputRequired(_l("Enter a distance in miles.")),
                                          NumberRange(0.5, 100, _l("Enter a distance between 0.5 and 100 miles."))])
