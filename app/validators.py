"""Field validators shared by the forms."""
from flask_babel import gettext as _
from wtforms.validators import ValidationError

from app.services import geo


class KnownZip:
    """A 5-digit US ZIP that the offline centroid data knows (empty passes: pair with DataRequired)."""

    def __call__(self, form, field):
        value = (field.data or "").strip()
        if not value:
            return
        if not geo.ZIP_RE.match(value):
            raise ValidationError(_("Enter a 5-digit US ZIP code."))
        if geo.lookup_zip(value) is None:
            raise ValidationError(_("We don't know ZIP %(zip)s.", zip=value))
