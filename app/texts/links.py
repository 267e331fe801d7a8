"""The page a text's signed link opens, for someone who cannot log in: their side of one match,
what the match page would show them, and the same answers (confirm or decline; did it happen?)."""
from flask import render_template, request
from flask_babel import gettext as _

from app.matches.forms import AnswerForm
from app.services import Conflict, NotAllowed, ServiceError, disclosure, followup
from app.services import matches as match_service
from app.services.text_links import load_match_token
from app.texts import bp
from app.web import public

ACTIONS = {"accept", "decline", "happened", "not_happened"}


def _error(message: str, code: int = 404):
    return render_template("errors/error.html", code=code, title=_("Link not valid"), message=message), code


@bp.route("/m/<token>", methods=["GET", "POST"])
@public
def match_link(token: str):
    try:
        match, person = load_match_token(token)
    except ServiceError as err:
        return _error(err.message)
    form = AnswerForm()
    done, status = None, 200
    if request.method == "POST":
        action = request.form.get("action")
        if not form.validate_on_submit() or action not in ACTIONS:
            return _error(_("This form had expired. Open the link again."), 400)
        try:
            if action in ("accept", "decline"):
                match_service.answer(person, match.id, action == "accept",
                                     link_for=lambda m: None)
                done = _("Thank you: you confirmed.") if action == "accept" else _("You declined. We'll look for someone else.")
            else:
                followup.record_outcome(person, match.id, action == "happened")
                done = _("Thank you for letting us know.")
        except (Conflict, NotAllowed) as err:
            done, status = err.message, 409
        match, person = load_match_token(token)
    side = disclosure.side_of(person, match)
    cards = disclosure.contact_cards(person, match)
    waiting_answer = match.status == "approved" and getattr(match, f"{side}_answer", None) is None
    return render_template("texts/match.html", match=match, person=person, side=side, cards=cards, form=form,
                           token=token, done=done, waiting_answer=waiting_answer,
                           asks_outcome=match.status == "accepted"), status
