from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import BaseForm, BoundedDateField, IdSelectField
from app.models.fund import METHODS, PLEDGE_FREQUENCIES, PURPOSES

# Amounts are typed as text and parsed by the fund service, which explains what is wrong
# ("12.345", "-5", "1e9", "abc") beside the field.


class PledgeForm(BaseForm):
    amount = StringField(_l("Amount (dollars)"), validators=[DataRequired(_l("Enter an amount in dollars, like 25."))])
    frequency = RadioField(_l("How often"), choices=list(PLEDGE_FREQUENCIES.items()), default="one_off",
                           validators=[InputRequired(_l("Choose one-off or monthly."))])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=300)])


class RequestForm(BaseForm):
    amount = StringField(_l("Amount (dollars)"), validators=[DataRequired(_l("Enter an amount in dollars, like 350."))])
    purpose = SelectField(_l("For"), choices=[("", _l("Choose"))] + list(PURPOSES.items()),
                          validators=[DataRequired(_l("Choose what the money is for."))])
    payee = StringField(_l("Who gets paid"), validators=[DataRequired(_l("Name the landlord or company to be paid.")), Length(max=120)],
                        description=_l("The fund pays the landlord, utility or clinic directly, never cash to a person."))
    note = TextAreaField(_l("Note for coordinators (optional)"), validators=[Optional(), Length(max=2000)])


class ReceiptForm(BaseForm):
    amount = StringField(_l("Amount received (dollars)"), validators=[DataRequired(_l("Enter the amount received."))])
    method = SelectField(_l("How"), choices=list(METHODS.items()))
    received_on = BoundedDateField(_l("Received on"), validators=[InputRequired(_l("Enter the date the money arrived."))])
    pledge_id = IdSelectField(_l("Against"), validate_choice=False)
    reference = StringField(_l("Reference (optional)"), validators=[Optional(), Length(max=120)])


class DecisionForm(BaseForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=300)])


class PaymentForm(BaseForm):
    paid_on = BoundedDateField(_l("Paid on"), validators=[InputRequired(_l("Enter the payment date."))])
    method = SelectField(_l("How"), choices=list(METHODS.items()))
    reference = StringField(_l("Check number or reference"), validators=[DataRequired(_l("Enter the check number or reference.")),
                                                                    Length(max=120)])
