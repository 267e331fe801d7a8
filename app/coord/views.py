from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from app.coord.forms import ResidentForm, RoleForm
from app.extensions import db
from app.models import Post, User
from app.posts.views import new_post_page
from app.services import NotAllowed, ServiceError, accounts
from app.services import posts as post_service
from app.web import form_error, roles_required

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
            user = accounts.create_resident(current_user, form.name.data, form.zip_code.data, form.email.data, form.phone.data)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(f"{user.name} is registered as a resident.", "success")
            return redirect(url_for("coord.resident", user_id=user.id))
    return render_template("coord/resident_form.html", form=form)


@bp.route("/residents/<int:user_id>")
@roles_required("coordinator")
def resident(user_id: int):
    person = _resident(user_id)
    return render_template("coord/resident.html", person=person, posts=post_service.posts_of([person.id]))


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
    q = (request.args.get("q") or "").strip()[:80]
    stmt = select(User).where(User.role.in_(("member", "resident")))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(like), func.lower(User.email).like(like)))
    people = db.session.scalars(stmt.order_by(User.name).limit(50)).all()
    return render_template("coord/members.html", people=people, q=q, form=RoleForm())


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
    flash(f"{target.name} is now marked as {'a resident' if role == 'resident' else 'a member'}.", "success")
    return redirect(url_for("coord.members", q=request.form.get("q", "")))
