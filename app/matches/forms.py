from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class HelpForm(FlaskForm):
    offer_id = SelectField("Which of your offers", coerce=int, validate_choice=False,
                           validators=[InputRequired("Choose one of your offers.")])
    note = TextAreaField("A note for the coordinator (optional)", validators=[Optional(), Length(max=1000)],
                         description="Coordinators read it; the person asking does not see it.")


class AnswerForm(FlaskForm):
    """Accept or decline: the button pressed says which."""


class RejectForm(FlaskForm):
    reason = StringField("Why", validators=[DataRequired("Say why, so the next coordinator knows."), Length(max=300)])


class SwapForm(FlaskForm):
    offer_id = SelectField("Swap to", coerce=int, validate_choice=False, validators=[InputRequired("Choose an offer.")])


class ManualMatchForm(FlaskForm):
    offer_id = HiddenField(validators=[DataRequired()])
    units = IntegerField("Units", validators=[Optional(), NumberRange(min=1, message="Enter 1 or more.")])


class OutcomeForm(FlaskForm):
    happened = RadioField("Did it happen?", choices=[("yes", "Yes, it happened"), ("no", "No, it did not happen")],
                          validators=[InputRequired("Choose yes or no.")])
    feedback = TextAreaField("Anything coordinators should know? (optional)", validators=[Optional(), Length(max=1000)])


class CaseNoteForm(FlaskForm):
    body = TextAreaField("Add a private note", validators=[DataRequired("Write the note first."), Length(max=4000)])
