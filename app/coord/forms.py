from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from app.forms import BaseForm
from app.validators import KnownZip


class ResidentForm(BaseForm):
    name = StringField(_l("Resident's name"), validators=[DataRequired(_l("Enter the resident's name.")), Length(max=80)])
    zip_code = StringField(_l("ZIP code"), validators=[DataRequired(_l("Enter a ZIP code.")), KnownZip()])
    email = EmailField(_l("Email (optional)"), validators=[Optional(), Email(_l("Enter a valid email address."), check_deliverability=False), Length(max=254)],
                       description=_l("Residents don't need an email address."))
    phone = TelField(_l("Phone (optional)"), validators=[Optional(), Length(max=30), Regexp(r"^[0-9+().\- ]+$", message=_l("Use digits, spaces and + ( ) - only."))])
    contact_name = StringField(_l("Contact person (optional)"), validators=[Optional(), Length(max=80)],
                               description=_l("Without an email or phone, matched people reach the resident through "
                                              "a contact person: you, unless you name someone else here."))
    contact_detail = StringField(_l("Contact person's email or phone (optional)"), validators=[Optional(), Length(max=120)])


class RoleForm(BaseForm):
    """Only the CSRF token; the role comes from the button pressed."""
