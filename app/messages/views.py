"""Writing in a match's message thread (shown on the match page). The rules are in
app/services/messages.py: who may write, the hourly limit, the first message's rule."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.concerns.views import per_account
from app.extensions import limiter
from app.matches.forms import AnswerForm, OutcomeForm
from app.matches.views import _dates, _visible, match_url
from app.messages.forms import MessageForm
from app.messages.page import match_page_extras
from app.services import Conflict, NotAllowed, ServiceError, disclosure
from app.services import messages as message_service
from app.web import form_error

bp = Blueprint("messages", __name__)


def _message_limit() -> str:
    return current_app.config["MESSAGE_RATE_LIMIT"]


@bp.route("/matches/<int:match_id>/messages", methods=["POST"])
@limiter.limit(_message_limit, key_func=per_account)
def send(match_id: int):
    match = _visible(match_id)  # 404 for anyone who may not see the match
    form = MessageForm()
    if form.validate_on_submit():
        try:
            message_service.send(current_user, match_id, form.body.data, match_url)
        except NotAllowed:
            abort(404)
        except Conflict as err:
            abort(409, description=err.message)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Sent. We let them know by email that you wrote (without your words)."), "success")
            return redirect(url_for("matches.detail", match_id=match_id) + "#messages")
    # Back to the match page with the error beside the field and the text kept.
    return render_template("matches/detail.html", match=match, cards=disclosure.contact_cards(current_user, match),
                           side=disclosure.side_of(current_user, match), answer_form=AnswerForm(),
                           outcome_form=OutcomeForm(), occurrence_rows=_dates(match),
                           **match_page_extras(match, form)), 422
