"""The match page the two people share, their answers, and the "did it happen?" link."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.matches.forms import AnswerForm, OutcomeForm
from app.messages.page import match_page_extras
from app.services import Conflict, NotAllowed, ServiceError
from app.services import disclosure
from app.services import matches as match_service
from app.services import followup
from app.services import occurrences as occurrence_service
from app.web import form_error, public

bp = Blueprint("matches", __name__, url_prefix="/matches")


def match_url(match) -> str:
    return url_for("matches.detail", match_id=match.id, _external=True)


def outcome_url(token: str) -> str:
    return url_for("matches.outcome_by_link", token=token, _external=True)


def _visible(match_id: int):
    try:
        match = match_service.get_match(match_id)
    except NotAllowed:
        abort(404)
    if not disclosure.can_view(current_user, match):
        abort(404)  # no hint that the match exists
    return match


@bp.route("/<int:match_id>")
def detail(match_id: int):
    match = _visible(match_id)
    cards = disclosure.contact_cards(current_user, match)
    return render_template("matches/detail.html", match=match, cards=cards, side=disclosure.side_of(current_user, match),
                           answer_form=AnswerForm(), outcome_form=OutcomeForm(), occurrence_rows=_dates(match),
                           **match_page_extras(match))


def _dates(match) -> list:
    return occurrence_service.rows_for(current_user, match.need, match) if match.need.repeats else []


@bp.route("/<int:match_id>/answer", methods=["POST"])
def answer(match_id: int):
    _visible(match_id)
    if not AnswerForm().validate_on_submit():
        abort(400)
    accept = request.form.get("answer") == "accept"
    try:
        match_service.answer(current_user, match_id, accept, link_for=match_url)
    except NotAllowed:
        abort(403)
    except Conflict as err:
        abort(409, description=err.message)
    flash(_("Thank you: you confirmed.") if accept else _("You declined. We'll look for someone else."), "success")
    return redirect(url_for("matches.detail", match_id=match_id))


@bp.route("/<int:match_id>/outcome", methods=["POST"])
def outcome(match_id: int):
    match = _visible(match_id)
    form = OutcomeForm()
    if form.validate_on_submit():
        try:
            followup.record_outcome(current_user, match_id, form.happened.data == "yes", form.feedback.data)
        except NotAllowed:
            abort(403)
        except Conflict as err:
            abort(409, description=err.message)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Thank you for letting us know."), "success")
            return redirect(url_for("matches.detail", match_id=match_id))
    return render_template("matches/detail.html", match=match, cards={}, side=disclosure.side_of(current_user, match),
                           answer_form=AnswerForm(), outcome_form=form, occurrence_rows=_dates(match),
                           **match_page_extras(match)), 422


@bp.route("/outcome/<token>", methods=["GET", "POST"])
@public
def outcome_by_link(token: str):
    """The follow-up email's signed link: a GET shows the question, the POST records the answer."""
    try:
        match, person = followup.match_for_outcome_token(token)
    except ServiceError as err:
        return render_template("errors/error.html", code=404, title=_("Link not valid"), message=err.message), 404
    form = OutcomeForm()
    if form.validate_on_submit():
        try:
            followup.record_outcome(person, match.id, form.happened.data == "yes", form.feedback.data)
        except Conflict as err:
            abort(409, description=err.message)
        except ServiceError as err:
            form_error(form, err)
        else:
            return render_template("matches/outcome.html", match=match, done=True, form=form)
    status = 422 if form.errors else 200
    return render_template("matches/outcome.html", match=match, done=False, form=form, token=token), status
