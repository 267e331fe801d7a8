from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import BaseForm
from app.services.messages import MAX_BODY


class MessageForm(BaseForm):
    body = TextAreaField(_l("Your message"),
                         validators=[DataRequired(_l("Write a message first.")),
                                     Length(max=MAX_BODY, message=_l("Keep it under %(limit)s characters.", limit=MAX_BODY))])
