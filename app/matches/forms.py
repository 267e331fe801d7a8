from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import BaseForm, IdField, IdSelectField, WholeNumberField


class HelpForm(BaseForm):
    offer_id = IdSelectField("Which of your offers", validate_choice=False,
                             validators=[InputRequired("Choose one of your offers.")])
    note = TextAreaField("A note for the coordinator (optional)", validators=[Optional(), Length(max=1000)],
                         description="Coordinators read it; the person asking does not see it.")


class AnswerForm(BaseForm):
    """Accept or decline: the button pressed says which."""


class RejectForm(BaseForm):
    reason = StringField("Why", validators=[DataRequired("Say why, so the next coordinator knows."), Length(max=300)])


class SwapForm(BaseForm):
    offer_id = IdSelectField("Swap to", validate_choice=False, validators=[InputRequired("Choose an offer.")])


class ManualMatchForm(BaseForm):
    offer_id = IdField(validators=[DataRequired("Choose one of the offers listed.")])
    units = WholeNumberField("Units", validators=[Optional(), NumberRange(min=1, message="Enter 1 or more.")])


class OutcomeForm(BaseForm):
    happened = RadioField("Did it happen?", choices=[("yes", "Yes, it happened"), ("no", "No, it did not happen")],
                          validators=[InputRequired("Choose yes or no.")])
    feedback = TextAreaField("Anything coordinators should know? (optional)", validators=[Optional(), Length(max=1000)])


class CaseNoteForm(BaseForm):
    body = TextAreaField("Add a private note", validators=[DataRequired("Write the note first."), Length(max=4000)])
