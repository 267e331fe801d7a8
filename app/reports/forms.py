from flask_babel import lazy_gettext as _l
from wtforms.validators import Optional

from app.forms import BoundedDateField, PlainForm


class ReportDateField(BoundedDateField):
    """A day of the period, typed as on the date picker; anything else is explained beside it."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(_l("Enter a date like 2026-11-30."))) from None


class PeriodForm(PlainForm):
    """?from=YYYY-MM-DD&to=YYYY-MM-DD (a GET filter: nothing changes, no CSRF token)."""

    start = ReportDateField(_l("From"), name="from", validators=[Optional()], render_kw={"type": "date"})
    end = ReportDateField(_l("To"), name="to", validators=[Optional()], render_kw={"type": "date"})
