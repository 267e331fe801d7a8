from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.forms import BaseForm, BoundedDateField, IdSelectField
from app.models.safety import CHECK_KINDS


class CheckForm(BaseForm):
    """Record or renew a check (a kind the person has already is renewed)."""

    kind = SelectField(_l("Kind of check"), choices=list(CHECK_KINDS.items()),
                       validators=[InputRequired(_l("Choose one of the checks listed."))],
                       validate_choice=False)
    checked_on = BoundedDateField(_l("Date checked"), validators=[Optional()], render_kw={"type": "date"})
    expires_on = BoundedDateField(_l("Expires on"), validators=[Optional()], render_kw={"type": "date"},
                                  description=_l("Not needed for training."))


class RemoveCheckForm(BaseForm):
    kind = SelectField(choices=list(CHECK_KINDS.items()), validate_choice=False,
                       validators=[InputRequired(_l("Choose one of the checks listed."))])


class BarForm(BaseForm):
    resident_id = IdSelectField(_l("Keep this person away from"), validate_choice=False, validators=[Optional()],
                                description=_l("Every resident, or one resident (a no-contact order)."))
    reason = TextAreaField(_l("Reason (only coordinators see it)"),
                           validators=[InputRequired(_l("Say why, for the other coordinators (only coordinators see it).")),
                                       Length(max=1000)])


class RulesForm(BaseForm):
    """Every rule at once: the boxes ticked are the rules in force."""

    rule = SelectMultipleField(validate_choice=False, validators=[Optional()])


class ActionForm(BaseForm):
    """Only the CSRF token: the button is the action."""
