"""The forms of "my data": deleting an account asks for the password again."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import DataRequired

from app.forms import BaseForm


class DeleteAccountForm(BaseForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(_l("Type your password to confirm."))],
                             description=_l("Typed again, so nobody else at this computer can delete the account."))
