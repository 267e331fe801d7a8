"""What every form shares: text without control characters, ids that can exist, finite numbers,
dates in a sane range. Each bad value gets a sentence beside its field; none reaches the database.

Every form inherits `BaseForm` (with CSRF) or `PlainForm` (GET filters and the rows inside a
FieldList); a test checks that none is left out.
"""
import re
from datetime import date
from decimal import Decimal

from babel import support
from flask import current_app, has_app_context
from flask_babel import get_locale, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, Form, HiddenField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.i18n import messages_path
from wtforms.validators import ValidationError

from app.ids import parse_id

CONTROL_MESSAGE = _l("This contains characters we can't accept (such as a NUL byte).")
# C0 controls and DEL. PostgreSQL refuses NUL in text outright; the others are never typed.
# A textarea may hold tabs and line breaks; a one-line field nothing of the kind.
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_chars(text: str | None, multiline: bool = False) -> bool:
    return bool(text) and bool((_CONTROL_TEXT if multiline else _CONTROL_LINE).search(text))


def _refuses_text(field) -> bool:
    # Passwords are only ever hashed, never stored or searched as text: any character is fine
    # there, and refusing one would lock out whoever chose it.
    if not isinstance(field, StringField) or isinstance(field, PasswordField) or not isinstance(field.data, str):
        return False
    return has_control_chars(field.data, multiline=isinstance(field, TextAreaField))


class SafeTextMixin:
    """After the usual validation, any text field holding control characters gets CONTROL_MESSAGE.

    Checked after the field's own validators rather than as one of them, so an Optional() that
    stops the chain (str.strip() removes \\x1c-\\x1f) cannot let such a value through.

    Its Meta gives every form, the rows inside a FieldList too, WTForms' own messages in the
    page's language (WTFORMS_MESSAGES; Flask-WTF's reached only the outer form, so a Spanish page
    said "Not a valid date value." beside a time row).
    """

    class Meta:
        def get_translations(self, form):
            if not has_app_context() or not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return WTFORMS_MESSAGES

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        message = str(CONTROL_MESSAGE)
        for field in self:
            if _refuses_text(field):
                if message not in field.errors:
                    field.errors = [*field.errors, message]
                ok = False
        return ok


class _WTFormsMessages:
    """WTForms' own messages ("Not a valid choice.") in the page's language, from WTForms' catalogs
    as Flask-WTF would give them; Flask-WTF reads the catalog from disk again on every request that
    builds a form, this reads it once per process and language."""

    def __init__(self):
        self._catalogs: dict[str, support.Translations] = {}

    def _catalog(self) -> support.Translations:
        code = str(get_locale() or "en")
        found = self._catalogs.get(code)
        if found is None:
            found = self._catalogs[code] = support.Translations.load(messages_path(), [code], domain="wtforms")
        return found

    def gettext(self, string: str) -> str:
        return self._catalog().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog().ungettext(singular, plural, n)


WTFORMS_MESSAGES = _WTFormsMessages()


class BaseForm(SafeTextMixin, FlaskForm):
    """Every form that is posted (it carries the CSRF token)."""


class PlainForm(SafeTextMixin, Form):
    """Forms without a CSRF token: GET filters, and rows nested in another form's FieldList."""


# Ids ----------------------------------------------------------------------------------------

def coerce_id(value) -> int:
    """SelectField coerce for a database id; 0 stays 0 where a form offers it as "none of these"."""
    if value in (0, "0"):
        return 0
    number = parse_id(value)
    if number is None:
        raise ValueError("not an id")
    return number


class IdSelectField(SelectField):
    """A choice of one of the listed rows, by id: anything that cannot be an id is refused with a
    sentence instead of reaching the database (PostgreSQL errors on ids above 2**31 - 1)."""

    def __init__(self, label=None, validators=None, invalid_value_message=_l("Choose one of the listed options."), **kwargs):
        kwargs.setdefault("coerce", coerce_id)
        super().__init__(label, validators, invalid_value_message=invalid_value_message, **kwargs)


class IdField(HiddenField):
    """A hidden id: its data is an int in 1..MAX_ID, or None when it was left empty."""

    def __init__(self, label=None, validators=None, message=_l("That is not one of the listed items; reload the page."), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0]
        self.data = parse_id(raw)
        if self.data is None and raw.strip():
            raise ValueError(str(self.message))


# Numbers and dates --------------------------------------------------------------------------

_WHOLE = re.compile(r"[+-]?[0-9]{1,15}")


class WholeNumberField(IntegerField):
    """An integer typed in ASCII digits, at most 15 of them. IntegerField takes whatever int()
    takes ("1_000", other scripts' digits) and passes any size on, and NumberRange turns a number
    of hundreds of digits into a float, which overflows."""

    def __init__(self, label=None, validators=None, invalid_message=_l("Enter a whole number, like 3."), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip() if isinstance(valuelist[0], str) else str(valuelist[0])
        if not text:
            self.data = None
            return
        if not _WHOLE.fullmatch(text):
            self.data = None
            raise ValueError(str(self.invalid_message))
        self.data = int(text)


class FiniteDecimalField(DecimalField):
    """Decimal('NaN'), Decimal('sNaN') and Decimal('Infinity') are numbers to Python, not to us
    (and comparing a signaling NaN raises): they get a sentence beside the field."""

    def __init__(self, label=None, validators=None, finite_message=_l("Enter a number, like 10 or 12.5."), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.finite_message = finite_message

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(str(self.finite_message))


FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2100, 12, 31)


class BoundedDateField(DateField):
    """A date from 2000 to 2100. Anything else is a typo, and years like 9999 overflow when the
    date is turned into UTC or has days added to it."""

    def __init__(self, label=None, validators=None, first=FIRST_DATE, last=LAST_DATE, range_message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.first, self.last = first, last
        self.range_message = range_message or _l("Enter a date between %(first)s and %(last)s.", first=first.year, last=last.year)

    def pre_validate(self, form):
        if self.data is not None and not (self.first <= self.data <= self.last):
            raise ValidationError(str(self.range_message))
