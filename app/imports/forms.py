from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms.validators import DataRequired

from app.forms import BaseForm, BoundedDateField, PlainForm


class UploadForm(BaseForm):
    members = FileField(_l("Members file (CSV)"))
    posts = FileField(_l("Posts file (CSV)"))


class ActionForm(BaseForm):
    """Only the CSRF token: the Import, Discard buttons."""


class ExportForm(PlainForm):
    """A date range for the posts and matches exports (a GET form: it changes nothing)."""

    start = BoundedDateField(_l("From"), validators=[DataRequired(_l("Enter the first day, like 2025-01-31."))])
    end = BoundedDateField(_l("To"), validators=[DataRequired(_l("Enter the last day, like 2025-03-31."))])
