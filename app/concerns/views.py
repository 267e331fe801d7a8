"""Reporting a concern on a post, a match or a group session, and the coordinators' concern page.
The rules are in app/services/concerns.py and concern_actions.py."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.concerns.forms import ButtonForm, ConcernForm, NoteForm
from app.extensions import limiter
from app.messages.forms import MessageForm
from app.services import Conflict, NotAllowed, ServiceError
from app.services import concern_actions
from app.services import concerns as concern_service
from app.services import messages as message_service
from app.web import form_error, roles_required, run_action

bp = Blueprint("concerns", __name__, url_prefix="/concerns")


def concern_url(concern) -> str:
    return url_for("concerns.detail", concern_id=concern.id, _external=True)


def _report_limit() -> str:
    return current_app.config["CONCERN_RATE_LIMIT"]


def per_account() -> str:
    """Rate limits on logged-in pages count per account (several people may share one address)."""
    return f"account:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def _subject_url(kind: str, subject_id: int) -> str:
    if kind == "post":
        return url_for("posts.detail", post_id=subject_id)
    if kind == "match":
        return url_for("matches.detail", match_id=subject_id)
    return url_for("groups.session", session_id=subject_id)


def _report(kind: str, subject_id: int):
    try:
        subject = concern_service.reportable(current_user, kind, subject_id)
    except NotAllowed:
        abort(404)
    form = ConcernForm()
    if form.validate_on_submit():
        try:
            concern_service.report(current_user, kind, subject_id, form.category.data, form.body.data, concern_url)
        except NotAllowed:
            abort(404)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Thank you for telling us. A coordinator will look at it soon; nobody is told who reported it."),
                  "success")
            # A post a safety report hides is gone for the reporter too: back to browsing then.
            back = _subject_url(kind, subject_id)
            if kind == "post" and concern_service.is_held(subject) and not current_user.is_coordinator:
                back = url_for("posts.browse", kind=subject.row.kind)
            return redirect(back)
    status = 422 if request.method == "POST" else 200
    return render_template("concerns/report.html", form=form, subject=subject, back=_subject_url(kind, subject_id)), status


@bp.route("/report/post/<int:post_id>", methods=["GET", "POST"])
@limiter.limit(_report_limit, key_func=per_account, methods=["POST"])
def report_post(post_id: int):
    return _report("post", post_id)


@bp.route("/report/match/<int:match_id>", methods=["GET", "POST"])
@limiter.limit(_report_limit, key_func=per_account, methods=["POST"])
def report_match(match_id: int):
    return _report("match", match_id)


@bp.route("/report/session/<int:session_id>", methods=["GET", "POST"])
@limiter.limit(_report_limit, key_func=per_account, methods=["POST"])
def report_session(session_id: int):
    return _report("session", session_id)


# Coordinators -----------------------------------------------------------------------------------

def _page(concern_id: int, resolve_form: NoteForm | None = None, act_form: NoteForm | None = None, status: int = 200):
    try:
        page = concern_service.read_concern(current_user, concern_id)
    except NotAllowed:
        abort(404)
    subject = page.subject
    thread = message_service.thread_for(current_user, subject.row) if subject.kind == "match" else None
    return render_template("concerns/detail.html", page=page, concern=page.concern, subject=subject, thread=thread,
                           action=concern_actions.available_action(subject), button_form=ButtonForm(),
                           resolve_form=resolve_form or NoteForm(prefix="resolve"),
                           act_form=act_form or NoteForm(prefix="act"), message_form=MessageForm()), status


@bp.route("/<int:concern_id>")
@roles_required("coordinator")
def detail(concern_id: int):
    return _page(concern_id)


def _known(concern_id: int) -> None:
    try:
        concern_service.get_concern(current_user, concern_id)
    except NotAllowed:
        abort(404)


@bp.route("/<int:concern_id>/lift", methods=["POST"])
@roles_required("coordinator")
def lift(concern_id: int):
    _known(concern_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    here = url_for("concerns.detail", concern_id=concern_id)
    return run_action(lambda: concern_actions.lift_hold(current_user, concern_id),
                      _("The hold is lifted. The report stays open until you resolve it."), here, here)


def _with_note(concern_id: int, prefix: str, action, done: str):
    _known(concern_id)
    form = NoteForm(prefix=prefix)
    if form.validate_on_submit():
        try:
            action(form.note.data)
        except NotAllowed:
            abort(404)
        except Conflict as err:
            abort(409, description=err.message)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(done, "success")
            return redirect(url_for("coord.queue"))
    forms = {"resolve_form": form} if prefix == "resolve" else {"act_form": form}
    return _page(concern_id, status=422, **forms)


@bp.route("/<int:concern_id>/resolve", methods=["POST"])
@roles_required("coordinator")
def resolve(concern_id: int):
    return _with_note(concern_id, "resolve", lambda note: concern_actions.resolve(current_user, concern_id, note),
                      _("The report is resolved."))


@bp.route("/<int:concern_id>/act", methods=["POST"])
@roles_required("coordinator")
def act(concern_id: int):
    from app.groups.views import session_link

    return _with_note(concern_id, "act",
                      lambda note: concern_actions.take_action(current_user, concern_id, note, session_link),
                      _("Done, and the report is resolved."))
