"""Workshops and peer-led groups: finding sessions, joining them, and running them as a host."""
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from app.extensions import db
from app.groups.forms import ActionForm, FeedbackForm, GroupFilterForm, JoinForm, MessageForm, ScheduleForm, SessionForm
from app.ids import parse_id
from app.models import Post
from app.models.groups import SEAT_LABELS
from app.services import Conflict, NotAllowed, ServiceError, geo, holds
from app.services import calendar as calendar_service
from app.services import group_access, groups_browse, groups_join, groups_roster, groups_schedule
from app.services.groups_browse import places_label
from app.timeutil import utc_to_local, utcnow
from app.web import board, form_error, public, run_action, safe_next

bp = Blueprint("groups", __name__, url_prefix="/groups")


def session_link(session) -> str:
    return url_for("groups.session", session_id=session.id, _external=True)


def _session_or_404(session_id: int):
    try:
        return group_access.get_session(session_id)
    except NotAllowed:
        abort(404)


def _visible_session(session_id: int):
    """A session whose page this viewer may see: a closed offer, or one a safety report hides, only
    to the people in it and those who manage it."""
    session = _session_or_404(session_id)
    hidden = not session.offer.is_open or holds.post_hidden(session.offer_id)
    if hidden and group_access.seat_of(current_user, session) is None \
            and not group_access.can_manage(current_user, session.series):
        abort(404)
    return session


def _managed_session(session_id: int):
    """A session whose roster this user may see: 404 if none, 403 for anyone but its host and coordinators."""
    session = _session_or_404(session_id)
    if not group_access.can_manage(current_user, session.series):
        abort(403)
    return session



def _back(session_id: int) -> str:
    return url_for("groups.session", session_id=session_id)


def _checked(form) -> None:
    """Buttons carry only the CSRF token: a form that fails it is a 400, never a change."""
    if not form.validate_on_submit():
        abort(400)


# Finding sessions -----------------------------------------------------------------------------

@bp.route("")
@public
@board
def index():
    form = GroupFilterForm(request.args)
    form.validate()  # each filter is used only if its own field is valid
    ok = lambda field: field.data not in (None, "") and not field.errors  # noqa: E731
    origin = geo.viewer_origin(current_user, form.near.data.strip() if ok(form.near) else None)
    filters = groups_browse.GroupFilters(
        category=form.category.data if ok(form.category) else None, origin=origin,
        within_miles=float(form.within.data) if ok(form.within) and origin else None,
        page=form.page.data if ok(form.page) else 1, per_page=current_app.config["POSTS_PER_PAGE"])
    result = groups_browse.upcoming(filters, current_user)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("groups/index.html", form=form, result=result, args=args, places_label=places_label,
                           has_origin=origin is not None, seat_labels=SEAT_LABELS)


@bp.route("/sessions/<int:session_id>")
@public
@board
def session(session_id: int, join_form=None, feedback_form=None, status=200):
    session = _visible_session(session_id)
    seat = group_access.seat_of(current_user, session)
    member = None
    if current_user.is_authenticated:
        member = groups_join.series_member(session.series_id, current_user.id)
    context = dict(
        session=session, series=session.series, offer=session.offer, seat=seat,
        started=session.starts_at <= utcnow(),
        position=groups_join.waiting_position(seat) if seat else None,
        member=member, sees_place=group_access.sees_place(current_user, session, seat),
        manager=group_access.can_manage(current_user, session.series),
        why_not=group_access.why_not(current_user, session) if current_user.is_authenticated else None,
        distance=groups_browse.public_distance(session.offer, geo.viewer_origin(current_user)),
        places=places_label(session), upcoming=groups_browse.next_sessions(session.series_id),
        join_form=join_form or JoinForm(), action_form=ActionForm(),
        feedback_form=feedback_form or FeedbackForm(),
        may_give_feedback=groups_roster.may_give_feedback(current_user, session))
    return render_template("groups/session.html", **context), status


@bp.route("/sessions/<int:session_id>.ics")
def session_ics(session_id: int):
    """One session as a calendar file: a neutral title, the time, the town and a link."""
    session = _visible_session(session_id)
    item = calendar_service.session_item(session, url_for)
    body = calendar_service.to_ics([item], current_app.config["BASE_URL"], cancelled=session.is_cancelled)
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="session-{session.id}.ics"'})


# Joining and leaving --------------------------------------------------------------------------

def _join_message(result) -> str:
    if result.status == "joined":
        return _("You have a place. See you there!")
    if result.status == "waiting":
        return _("This session is full: you are number %(position)s on the waiting list. We'll email you if a place opens up.",
                 position=result.position)
    return _("Your request was sent to the host. We'll email you their answer.")


@bp.route("/sessions/<int:session_id>/join", methods=["POST"])
def join(session_id: int):
    session = _session_or_404(session_id)
    form = JoinForm()
    if not form.validate_on_submit():
        return session_view_again(session.id, join_form=form)
    outcome = {}
    return run_action(lambda: outcome.update(r=groups_join.join_session(
        current_user, session.id, bool(form.share_contact.data), session_link)),
        _Later(lambda: _join_message(outcome["r"])), _back(session.id), _back(session.id))


class _Later:
    """A flash message known only once the action ran: run_action makes it a str after the action."""

    def __init__(self, func):
        self.func = func

    def __str__(self) -> str:
        return self.func()


def session_view_again(session_id: int, **forms):
    return session(session_id, status=422, **forms)


@bp.route("/sessions/<int:session_id>/leave", methods=["POST"])
def leave(session_id: int):
    session = _session_or_404(session_id)
    _checked(ActionForm())
    return run_action(lambda: groups_join.leave_session(current_user, session.id, session_link),
                      _("You left this session."), _back(session.id), _back(session.id))


@bp.route("/series/<int:series_id>/join", methods=["POST"])
def join_series(series_id: int):
    series = _series_or_404(series_id)
    form = JoinForm()
    _checked(form)
    back = parse_id(request.form.get("session_id"))
    back_url = _back(back) if back else url_for("groups.index")
    outcome = {}

    def done() -> str:
        r = outcome["r"]
        if r.requested:
            return _("Your request to join every session was sent to the host. We'll email you their answer.")
        text = ngettext("You have a place in %(num)s session.", "You have a place in %(num)s sessions.", r.joined)
        if r.waiting:
            text += " " + ngettext("You are on the waiting list for %(num)s session.",
                                   "You are on the waiting list for %(num)s sessions.", r.waiting)
        return text

    return run_action(lambda: outcome.update(r=groups_join.join_series(
        current_user, series.id, bool(form.share_contact.data), session_link)),
        _Later(done), back_url, back_url)


def _series_or_404(series_id: int):
    try:
        return group_access.get_series(series_id)
    except NotAllowed:
        abort(404)


@bp.route("/series/<int:series_id>/leave", methods=["POST"])
def leave_series(series_id: int):
    series = _series_or_404(series_id)
    _checked(ActionForm())
    back = parse_id(request.form.get("session_id"))
    back_url = _back(back) if back else url_for("groups.index")
    return run_action(lambda: groups_join.leave_series(current_user, series.id, session_link),
                      _("You left the series: you are no longer in its upcoming sessions."), back_url, back_url)


@bp.route("/sessions/<int:session_id>/feedback", methods=["POST"])
def feedback(session_id: int):
    session = _session_or_404(session_id)
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            groups_roster.leave_feedback(current_user, session.id, form.body.data)
        except NotAllowed:
            abort(403)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Thank you for saying how it went."), "success")
            return redirect(_back(session.id))
    return session_view_again(session.id, feedback_form=form)


# Hosting --------------------------------------------------------------------------------------

@bp.route("/hosting")
def hosting():
    offers = groups_browse.hosting(current_user)
    others = groups_browse.series_hosted_by_others(current_user) if current_user.is_coordinator else []
    next_of = {s.id: groups_browse.next_sessions(s.id, limit=3) for _offer, series in offers for s in series}
    next_of.update({s.id: groups_browse.next_sessions(s.id, limit=3) for s in others})
    return render_template("groups/hosting.html", offers=offers, others=others, next_of=next_of,
                           places_label=places_label, repeat_label=groups_browse.repeat_label)


@bp.route("/offers/<int:offer_id>/schedule", methods=["GET", "POST"])
def schedule(offer_id: int):
    offer = db.session.get(Post, offer_id)
    if offer is None:
        abort(404)
    try:
        group_access.may_schedule(current_user, offer)
    except NotAllowed:
        abort(403)
    form = ScheduleForm()
    if request.method == "GET" and form.places.data is None:
        form.places.data = offer.quantity if offer.offer_format == "group" else 1
    if request.method == "POST" and form.validate_on_submit():
        try:
            series = groups_schedule.create_series(current_user, offer.id, form.to_input(), session_link)
        except NotAllowed:
            abort(403)
        except Conflict as err:
            abort(409, description=err.message)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("The sessions are scheduled."), "success")
            first = groups_browse.next_sessions(series.id, limit=1)
            return redirect(_back(first[0].id) if first else url_for("groups.hosting"))
    status = 422 if request.method == "POST" else 200
    return render_template("groups/schedule.html", form=form, offer=offer), status


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
def edit_session(session_id: int):
    session = _managed_session(session_id)
    form = SessionForm()
    if request.method == "GET":
        start, end = utc_to_local(session.starts_at), utc_to_local(session.ends_at)
        form.day.data, form.start.data, form.end.data = start.date(), start.time(), end.time()
        form.places.data, form.place_details.data = session.places, session.place
    elif form.validate_on_submit():
        try:
            groups_schedule.change_session(current_user, session.id, form.to_change(), session_link)
        except NotAllowed:
            abort(403)
        except Conflict as err:
            abort(409, description=err.message)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("The session is changed; everyone in it was emailed."), "success")
            return redirect(url_for("groups.roster", session_id=session.id))
    status = 422 if request.method == "POST" else 200
    return render_template("groups/edit_session.html", form=form, session=session), status


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
def cancel_session(session_id: int):
    session = _managed_session(session_id)
    _checked(ActionForm())
    return run_action(lambda: groups_schedule.cancel_session(current_user, session.id, session_link),
                      _("The session is cancelled; everyone in it was emailed."),
                      url_for("groups.roster", session_id=session.id), url_for("groups.roster", session_id=session.id))


@bp.route("/series/<int:series_id>/cancel", methods=["POST"])
def cancel_series(series_id: int):
    series = _series_or_404(series_id)
    if not group_access.can_manage(current_user, series):
        abort(403)
    _checked(ActionForm())
    return run_action(lambda: groups_schedule.cancel_series(current_user, series.id, session_link),
                      _("The rest of the series is cancelled; everyone in it was emailed."),
                      url_for("groups.hosting"), url_for("groups.hosting"))


@bp.route("/sessions/<int:session_id>/roster")
def roster(session_id: int, message_form=None, status=200):
    session = _managed_session(session_id)
    data = groups_roster.roster(current_user, session.id)
    return render_template("groups/roster.html", roster=data, session=data.session, action_form=ActionForm(),
                           message_form=message_form or MessageForm(), places=places_label(data.session)), status


@bp.route("/sessions/<int:session_id>/attendance", methods=["POST"])
def attendance(session_id: int):
    session = _managed_session(session_id)
    _checked(ActionForm())
    marks = {}
    for key, value in request.form.items():
        seat_id = key.removeprefix("attended-")
        if key.startswith("attended-") and seat_id.isascii() and seat_id.isdigit() and len(seat_id) < 11:
            marks[int(seat_id)] = {"yes": True, "no": False}.get(value)
    back = url_for("groups.roster", session_id=session.id)
    return run_action(lambda: groups_roster.record_attendance(current_user, session.id, marks),
                      _("Attendance saved."), back, back)


@bp.route("/sessions/<int:session_id>/message", methods=["POST"])
def message(session_id: int):
    session = _managed_session(session_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            sent = groups_roster.message_attendees(current_user, session.id, form.body.data, session_link)
        except NotAllowed:
            abort(403)
        except Conflict as err:
            abort(409, description=err.message)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(ngettext("Your message was sent to %(num)s person.", "Your message was sent to %(num)s people.", sent),
                  "success")
            return redirect(url_for("groups.roster", session_id=session.id))
    return roster(session.id, message_form=form, status=422)


def _answer(action, item_id: int, done: str):
    _checked(ActionForm())
    back = safe_back()
    try:
        action(current_user, item_id, session_link)
    except NotAllowed:
        abort(404)
    except Conflict as err:
        abort(409, description=err.message)
    flash(done, "success")
    return redirect(back)


def safe_back() -> str:
    return safe_next(request.form.get("next")) or url_for("groups.hosting")


@bp.route("/requests/<int:seat_id>/accept", methods=["POST"])
def accept_request(seat_id: int):
    return _answer(groups_join.accept_request, seat_id, _("Accepted: they were emailed."))


@bp.route("/requests/<int:seat_id>/refuse", methods=["POST"])
def refuse_request(seat_id: int):
    return _answer(groups_join.refuse_request, seat_id, _("Not accepted: they were emailed."))


@bp.route("/series-requests/<int:member_id>/accept", methods=["POST"])
def accept_series_request(member_id: int):
    return _answer(groups_join.accept_series_request, member_id, _("Accepted for every session: they were emailed."))


@bp.route("/series-requests/<int:member_id>/refuse", methods=["POST"])
def refuse_series_request(member_id: int):
    return _answer(groups_join.refuse_series_request, member_id, _("Not accepted: they were emailed."))
