"""Forms of reports of concern: the report itself, and the coordinators' note when they act."""
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from app.forms import BaseForm
from app.models.concerns import CONCERN_CATEGORIES
from app.services.concern_actions import MAX_NOTE
from app.services.concerns import MAX_WORDS


class ConcernForm(BaseForm):
    category = RadioField(_l("What kind of concern is it?"), choices=list(CONCERN_CATEGORIES.items()),
                          validators=[InputRequired(_l("Choose what kind of concern this is."))])
    body = TextAreaField(_l("What happened?"),
                         validators=[DataRequired(_l("Say what happened, so a coordinator can act on it.")),
                                     Length(max=MAX_WORDS, message=_l("Keep it under %(limit)s characters.", limit=MAX_WORDS))],
                         description=_l("Only coordinators read this. Nobody is told who reported it."))


class NoteForm(BaseForm):
    """A coordinator's note on what was done (resolving, or acting and resolving)."""

    note = TextAreaField(_l("Note for the other coordinators"),
                         validators=[DataRequired(_l("Write what was done, for the other coordinators.")),
                                     Length(max=MAX_NOTE, message=_l("Keep the note under %(limit)s characters.", limit=MAX_NOTE))])


class ButtonForm(BaseForm):
    """A button that carries only the CSRF token."""
