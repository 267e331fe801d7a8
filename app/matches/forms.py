from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import BaseForm, IdField, IdSelectField, WholeNumberField


class HelpForm(BaseForm):
    offer_id = IdSelectField(_l("Which of your offers"), validate_choice=False,
                             validators=[InputRequired(_l("Choose one of your offers."))])
    note = TextAreaField(_l("A note for the coordinator (optional)"), validators=[Optional(), Length(max=1000)],
                         description=_l("Coordinators read it; the person asking does not see it."))


class AnswerForm(BaseForm):
    """Accept or decline: the button pressed says which."""


class RejectForm(BaseForm):
    reason = StringField(_l("Why"), validators=[DataRequired(_l("Say why, so the next coordinator knows.")), Length(max=300)])


class SwapForm(BaseForm):
    offer_id = IdSelectField(_l("Swap to"), validate_choice=False, validators=[InputRequired(_l("Choose an offer."))])


class ManualMatchForm(BaseForm):
    offer_id = IdField(validators=[DataRequired(_l("Choose one of the offers listed."))])
    units = WholeNumberField(_l("Units"), validators=[Optional(), NumberRange(min=1, message=_l("Enter 1 or more."))])


class OutcomeForm(BaseForm):
    happened = RadioField(_l("Did it happen?"), choices=[("yes", _l("Yes, it happened")), ("no", _l("No, it did not happen"))],
                          validators=[InputRequired(_l("Choose yes or no."))])
    feedback = TextAreaField(_l("Anything coordinators should know? (optional)"), validators=[Optional(), Length(max=1000)])


class CaseNoteForm(BaseForm):
    body = TextAreaField(_l("Add a private note"), validators=[DataRequired(_l("Write the note first.")), Length(max=4000)])
