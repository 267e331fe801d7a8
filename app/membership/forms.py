from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from app.auth.forms import SignupForm
from app.forms import BaseForm


class InviteForm(BaseForm):
    email = EmailField(_l("Email address to invite"), validators=[DataRequired(_l("Enter the email address to invite.")),
                                                                  Email(_l("Enter a valid email address."), check_deliverability=False),
                                                                  Length(max=254)],
                       filters=[lambda value: value.strip() if isinstance(value, str) else value])


class InvitedSignupForm(SignupForm):
    """The sign-up form without the email field: the invitation names the address."""

    email = None


class DecisionForm(BaseForm):
    """Only the CSRF token: the Approve and Decline buttons."""
