from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from app.coord.forms import ResidentForm, RoleForm
from app.matches.forms import AnswerForm, CaseNoteForm, ManualMatchForm, RejectForm, SwapForm
from app.matches.views import match_url
from app.extensions import db
from app.models import Post, User
from app.posts.views import new_post_page
from app.services import Conflict, NotAllowed, ServiceError, accounts, match_engine
from app.services import cases as case_service
from app.services import concerns as concern_service
from app.services import matches as match_service
from app.services import match_queue
from app.services import notify
from app.services import posts as post_service
from app.web import form_error, roles_required, run_action, text_arg

bp = Blueprint("coord", __name__, url_prefix="/coordinate")


def _resident(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role != "resident":
        abort(404)
    return user


@bp.route("/residents")
@roles_required("coordinator")
def residents():
    counts = dict(db.session.execute(
        select(Post.owner_id, func.count()).join(User, User.id == Post.owner_id)
        .where(User.role == "resident", Post.status == "open").group_by(Post.owner_id)
    ).all())
    people = db.session.scalars(select(User).where(User.role == "resident").order_by(User.name)).all()
    return render_template("coord/residents.html", people=people, counts=counts)


@bp.route("/residents/new", methods=["GET", "POST"])
@roles_required("coordinator")
def new_resident():
    form = ResidentForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_resident(current_user, form.name.data, form.zip_code.data, form.email.data,
                                            form.phone.data, form.contact_name.data, form.contact_detail.data)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("%(name)s is registered as a resident.", name=user.name), "success")
            return redirect(url_for("coord.resident", user_id=user.id))
    return render_template("coord/resident_form.html", form=form)


@bp.route("/residents/<int:user_id>")
@roles_required("coordinator")
def resident(user_id: int):
    return _resident_page(_resident(user_id), CaseNoteForm())


def _resident_page(person: User, note_form: CaseNoteForm):
    """The case view: every need and match of the resident, and the coordinators' private notes."""
    posts = post_service.posts_of([person.id])
    return render_template("coord/resident.html", person=person, posts=posts,
                           matches=match_queue.matches_for_posts([p.id for p in posts]),
                           notes=case_service.notes_of(current_user, person), note_form=note_form,
                           reason_label=match_queue.reason_label, reach=notify.reach_of(person),
                           kinds=notify.KINDS, channel_labels=notify.CHANNELS)


@bp.route("/residents/<int:user_id>/posts/new", methods=["GET", "POST"])
@roles_required("coordinator")
def post_for_resident(user_id: int):
    person = _resident(user_id)
    kind = request.args.get("kind", "need")
    if kind not in ("need", "offer"):
        abort(404)
    return new_post_page(kind, person, {"owner": person})


@bp.route("/members")
@roles_required("coordinator")
def members():
    q, q_error = text_arg("q")
    stmt = select(User).where(User.role.in_(("member", "resident")))
    if q and not q_error:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(like), func.lower(User.email).like(like)))
    people = db.session.scalars(stmt.order_by(User.name).limit(50)).all()
    return render_template("coord/members.html", people=people, q=q, q_error=q_error, form=RoleForm(),
                           reach=notify.reach_many(people))


@bp.route("/members/<int:user_id>/resident", methods=["POST"])
@roles_required("coordinator")
def mark_resident(user_id: int):
    target = db.session.get(User, user_id)
    if target is None:
        abort(404)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    role = "resident" if request.form.get("resident") == "1" else "member"
    try:
        accounts.set_role(current_user, target, role)
    except NotAllowed:
        abort(403)
    except ServiceError as err:
        abort(409, description=err.message)
    flash(_("%(name)s is now marked as a resident.", name=target.name) if role == "resident"
          else _("%(name)s is now marked as a member.", name=target.name), "success")
    return redirect(url_for("coord.members", q=request.form.get("q", "")))


# The coordinators' queue ---------------------------------------------------------------------

def _queue_url() -> str:
    """Back to the queue page the coordinator acted on (the buttons' URLs carry ?page=)."""
    return url_for("coord.queue", page=request.args.get("page", type=int))


def _queue_action(match_id: int, action, done: str):
    return run_action(action, done, _queue_url(), _queue_url() + f"#match-{match_id}")


@bp.route("/queue")
@roles_required("coordinator")
def queue():
    items = match_queue.queue(request.args.get("page", 1, type=int), current_app.config["QUEUE_PER_PAGE"])
    return render_template("coord/queue.html", items=items, unmet=match_queue.unmet_needs(),
                           reject_form=RejectForm(), swap_form=SwapForm(), concerns=concern_service.open_queue(current_user))


@bp.route("/matches/<int:match_id>/approve", methods=["POST"])
@roles_required("coordinator")
def approve(match_id: int):
    if not AnswerForm().validate_on_submit():
        abort(400)
    return _queue_action(match_id, lambda: match_service.approve(current_user, match_id, match_url),
                         _("Approved. Both people have been told, by email or text as each chose."))


@bp.route("/matches/<int:match_id>/reject", methods=["POST"])
@roles_required("coordinator")
def reject(match_id: int):
    form = RejectForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.reason.errors) or _("Say why, so the next coordinator knows."), "error")
        return redirect(_queue_url() + f"#match-{match_id}")
    return _queue_action(match_id, lambda: match_service.reject(current_user, match_id, form.reason.data), _("Rejected."))


@bp.route("/matches/<int:match_id>/swap", methods=["POST"])
@roles_required("coordinator")
def swap(match_id: int):
    form = SwapForm()
    if not form.validate_on_submit():
        abort(400)
    return _queue_action(match_id, lambda: match_service.swap(current_user, match_id, form.offer_id.data),
                         _("Swapped. The new proposal is in the queue."))


@bp.route("/needs/<int:need_id>/match", methods=["GET", "POST"])
@roles_required("coordinator")
def manual_match(need_id: int):
    need = db.session.get(Post, need_id)
    if need is None or need.kind != "need":
        abort(404)
    q, q_error = text_arg("q")
    form = ManualMatchForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                match = match_service.manual_match(current_user, need.id, form.offer_id.data, form.units.data, match_url)
            except NotAllowed as err:
                abort(403, description=err.message)
            except Conflict as err:
                abort(409, description=err.message)
            except ServiceError as err:
                flash(err.message, "error")
            else:
                flash(_("Matched and approved. Both people have been told, by email or text as each chose."), "success")
                return redirect(url_for("matches.detail", match_id=match.id))
        else:
            flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
    results = match_queue.search_offers(need, "" if q_error else q)
    return render_template("coord/manual_match.html", need=need, q=q, q_error=q_error, results=results, form=form,
                           bucket=match_engine.km_to_bucket), (422 if request.method == "POST" else 200)


@bp.route("/residents/<int:user_id>/notes", methods=["POST"])
@roles_required("coordinator")
def add_note(user_id: int):
    person = _resident(user_id)
    form = CaseNoteForm()
    if form.validate_on_submit():
        case_service.add_note(current_user, person, form.body.data)
        flash(_("Note saved."), "success")
        return redirect(url_for("coord.resident", user_id=person.id) + "#notes")
    return _resident_page(person, form), 422
