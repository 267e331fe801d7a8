"""What the match page shows of its message thread (used by app/matches/views.py and by the
messages blueprint when a message comes back with an error)."""
from flask_login import current_user

from app.messages.forms import MessageForm
from app.services import holds
from app.services import messages as message_service


def match_page_extras(match, message_form: MessageForm | None = None) -> dict:
    """The thread this viewer may read (None: no thread shown), its form, and whether a safety
    report pauses the match (the two people see the same line, so neither learns who reported)."""
    return {"thread": message_service.thread_for(current_user, match), "message_form": message_form or MessageForm(),
            "paused": holds.match_paused(match.id)}
