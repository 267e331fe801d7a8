from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from app.validators import KnownZip


class ResidentForm(FlaskForm):
    name = StringField("Resident's name", validators=[DataRequired("Enter the resident's name."), Length(max=80)])
    zip_code = StringField("ZIP code", validators=[DataRequired("Enter a ZIP code."), KnownZip()])
    email = EmailField("Email (optional)", validators=[Optional(), Email("Enter a valid email address.", check_deliverability=False), Length(max=254)],
                       description="Residents don't need an email address; you will be their contact.")
    phone = TelField("Phone (optional)", validators=[Optional(), Length(max=30), Regexp(r"^[0-9+().\- ]+$", message="Use digits, spaces and + ( ) - only.")])


class RoleForm(FlaskForm):
    """Only the CSRF token; the role comes from the button pressed."""
