from wtforms import EmailField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from app.forms import BaseForm
from app.validators import KnownZip


class ResidentForm(BaseForm):
    name = StringField("Resident's name", validators=[DataRequired("Enter the resident's name."), Length(max=80)])
    zip_code = StringField("ZIP code", validators=[DataRequired("Enter a ZIP code."), KnownZip()])
    email = EmailField("Email (optional)", validators=[Optional(), Email("Enter a valid email address.", check_deliverability=False), Length(max=254)],
                       description="Residents don't need an email address.")
    phone = TelField("Phone (optional)", validators=[Optional(), Length(max=30), Regexp(r"^[0-9+().\- ]+$", message="Use digits, spaces and + ( ) - only.")])
    contact_name = StringField("Contact person (optional)", validators=[Optional(), Length(max=80)],
                               description="Without an email or phone, matched people reach the resident through "
                                           "a contact person: you, unless you name someone else here.")
    contact_detail = StringField("Contact person's email or phone (optional)", validators=[Optional(), Length(max=120)])


class RoleForm(BaseForm):
    """Only the CSRF token; the role comes from the button pressed."""
