"""Forms of the groups area. They parse and keep what was typed; the services check the rules
(app/services/groups_schedule.py) and their FieldErrors are shown beside the field."""
from flask_babel import lazy_gettext as _l, lazy_ngettext
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField, TimeField
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import BaseForm, BoundedDateField, PlainForm, WholeNumberField
from app.models.posts import CATEGORIES, DAY_LABELS
from app.services.groups_schedule import MAX_PLACE, SeriesInput, SessionChange
from app.validators import KnownZip

REPEATS = [("once", _l("One date")), ("weekly", _l("Every week")), ("biweekly", _l("Every other week")),
           ("monthly", _l("Once a month, on a weekday"))]
NTH = [("1", _l("First")), ("2", _l("Second")), ("3", _l("Third")), ("4", _l("Fourth")), ("-1", _l("Last"))]
WEEKDAYS = [(str(i), label) for i, label in enumerate(DAY_LABELS)]


def _int_or_none(value: str | None, allowed: range | tuple) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number in allowed else None


class ScheduleForm(BaseForm):
    first_day = BoundedDateField(_l("First date"), validators=[Optional()], render_kw={"type": "date"})
    start = TimeField(_l("Starts at"), validators=[Optional()])
    end = TimeField(_l("Ends at"), validators=[Optional()])
    repeat = SelectField(_l("Repeats"), choices=REPEATS, default="once", validate_choice=False)
    days = SelectMultipleField(_l("Every week on"), choices=WEEKDAYS, validate_choice=False,
                               widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(), render_kw={"class": "checks"},
                               description=_l("For weekly sessions. None ticked: the day of the first date."))
    nth = SelectField(_l("Which one of the month"), choices=NTH, default="2", validate_choice=False)
    weekday = SelectField(_l("Weekday"), choices=WEEKDAYS, default="1", validate_choice=False)
    ends = RadioField(_l("Ends"), choices=[("count", _l("After a number of sessions")), ("until", _l("On a date"))],
                      default="count", validate_choice=False)
    count = WholeNumberField(_l("Number of sessions"), default=8, validators=[Optional()])
    until = BoundedDateField(_l("Last date"), validators=[Optional()], render_kw={"type": "date"})
    places = WholeNumberField(_l("Places"), validators=[Optional()],
                              description=_l("How many people can come to each session."))
    place_details = TextAreaField(_l("Exact place (private)"), validators=[Optional(), Length(max=MAX_PLACE)],
                                  description=_l("Only people who have a place, you and coordinators see it. "
                                                 "Everyone else sees the town."))
    ask_first = BooleanField(_l("Ask me first: I accept each person who asks to join"))

    def to_input(self) -> SeriesInput:
        days = [d for d in (_int_or_none(v, range(7)) for v in (self.days.data or [])) if d is not None]
        return SeriesInput(first_day=self.first_day.data, start=self.start.data, end=self.end.data,
                           repeat=self.repeat.data or "once", days=days, nth=_int_or_none(self.nth.data, (1, 2, 3, 4, -1)),
                           weekday=_int_or_none(self.weekday.data, range(7)), ends=self.ends.data or "count",
                           count=self.count.data, until=self.until.data, places=self.places.data,
                           place_details=self.place_details.data or "", ask_first=bool(self.ask_first.data))


class SessionForm(BaseForm):
    """Change one session."""

    day = BoundedDateField(_l("Date"), validators=[Optional()], render_kw={"type": "date"})
    start = TimeField(_l("Starts at"), validators=[Optional()])
    end = TimeField(_l("Ends at"), validators=[Optional()])
    places = WholeNumberField(_l("Places"), validators=[Optional()])
    place_details = TextAreaField(_l("Exact place (private)"), validators=[Optional(), Length(max=MAX_PLACE)])

    def to_change(self) -> SessionChange:
        return SessionChange(day=self.day.data, start=self.start.data, end=self.end.data, places=self.places.data,
                             place_details=self.place_details.data or "")


class JoinForm(BaseForm):
    share_contact = BooleanField(_l("Share my contact with the host"),
                                 description=_l("The host sees your first name; with this, also how to reach you."))


class ActionForm(BaseForm):
    """A button: leave, cancel, accept, refuse. Only the CSRF token is sent."""


class MessageForm(BaseForm):
    body = TextAreaField(_l("Message to everyone who has a place"),
                         validators=[Optional(), Length(max=2000, message=_l("Keep the message under 2000 characters."))],
                         description=_l("Each person gets their own email; nobody sees the others' addresses."))


class FeedbackForm(BaseForm):
    body = TextAreaField(_l("How did it go?"),
                         validators=[Optional(), Length(max=1000, message=_l("Keep it under 1000 characters."))],
                         description=_l("The host sees only how many people wrote; coordinators read it."))


class GroupFilterForm(PlainForm):
    """The filters of /groups (GET, read-only: no CSRF needed)."""

    category = SelectField(_l("Kind"), choices=[("", _l("Workshops and groups")), ("skills", CATEGORIES["skills"]),
                                                ("peer_support", CATEGORIES["peer_support"])], default="")
    near = StringField(_l("Near ZIP"), validators=[Optional(), KnownZip()])
    within = SelectField(_l("Within"), choices=[("", _l("Any distance"))] + [
        (str(n), lazy_ngettext("%(num)s mile", "%(num)s miles", n)) for n in (2, 5, 10, 25, 50)], default="")
    page = WholeNumberField(_l("Page"), default=1, validators=[Optional(), NumberRange(1, 100000)])
