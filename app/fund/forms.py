from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import BaseForm, BoundedDateField, IdSelectField
from app.models.fund import METHODS, PLEDGE_FREQUENCIES, PURPOSES

# Amounts are typed as text and parsed by the fund service, which explains what is wrong
# ("12.345", "-5", "1e9", "abc") beside the field.


class PledgeForm(BaseForm):
    amount = StringField("Amount (dollars)", validators=[DataRequired("Enter an amount in dollars, like 25.")])
    frequency = RadioField("How often", choices=list(PLEDGE_FREQUENCIES.items()), default="one_off",
                           validators=[InputRequired("Choose one-off or monthly.")])
    note = StringField("Note (optional)", validators=[Optional(), Length(max=300)])


class RequestForm(BaseForm):
    amount = StringField("Amount (dollars)", validators=[DataRequired("Enter an amount in dollars, like 350.")])
    purpose = SelectField("For", choices=[("", "Choose")] + list(PURPOSES.items()),
                          validators=[DataRequired("Choose what the money is for.")])
    payee = StringField("Who gets paid", validators=[DataRequired("Name the landlord or company to be paid."), Length(max=120)],
                        description="The fund pays the landlord, utility or clinic directly, never cash to a person.")
    note = TextAreaField("Note for coordinators (optional)", validators=[Optional(), Length(max=2000)])


class ReceiptForm(BaseForm):
    amount = StringField("Amount received (dollars)", validators=[DataRequired("Enter the amount received.")])
    method = SelectField("How", choices=list(METHODS.items()))
    received_on = BoundedDateField("Received on", validators=[InputRequired("Enter the date the money arrived.")])
    pledge_id = IdSelectField("Against", validate_choice=False)
    reference = StringField("Reference (optional)", validators=[Optional(), Length(max=120)])


class DecisionForm(BaseForm):
    reason = StringField("Reason", validators=[Optional(), Length(max=300)])


class PaymentForm(BaseForm):
    paid_on = BoundedDateField("Paid on", validators=[InputRequired("Enter the payment date.")])
    method = SelectField("How", choices=list(METHODS.items()))
    reference = StringField("Check number or reference", validators=[DataRequired("Enter the check number or reference."),
                                                                    Length(max=120)])
