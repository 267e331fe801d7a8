"""The forms of a mobile number for texts: the number, the code read back, removing it; and the
coordinator's form for a resident's number, with the resident's consent (app/services/phones.py)."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TelField
from wtforms.validators import DataRequired, Length

from app.forms import BaseForm


class NumberForm(BaseForm):
    number = TelField(_l("Mobile number"), validators=[DataRequired(_l("Enter a mobile number.")), Length(max=30)],
                      description=_l("A US number, or + and the country code for another country. We text a code to it "
                                     "to check it reaches you."),
                      render_kw={"autocomplete": "tel", "inputmode": "tel"})


class ResidentNumberForm(BaseForm):
    number = TelField(_l("The resident's mobile number"),
                      validators=[DataRequired(_l("Enter a mobile number.")), Length(max=30)],
                      description=_l("We text a code to it; the resident reads it back to you."),
                      render_kw={"autocomplete": "off", "inputmode": "tel"})
    consent = BooleanField(_l("The resident agreed to get texts from us at this number"),
                           validators=[DataRequired(_l("Ask the resident first: tick this only if they agreed to get "
                                                       "texts at this number."))])


class CodeForm(BaseForm):
    code = StringField(_l("Code from the text"), validators=[DataRequired(_l("Enter the code from the text.")),
                                                             Length(max=12)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class RemoveForm(BaseForm):
    """Only the CSRF token."""
