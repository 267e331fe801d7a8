import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from app.coord.forms import RoleForm
from app.extensions import db
from app.models import User
from app.models.users import ROLE_LABELS, ROLES
from app.services import NotAllowed, ServiceError, accounts, audit
from app.web import page_arg, roles_required, text_arg

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _role_changed(name: str, role: str) -> str:
    """The sentence after a role change, one per role (so each language can word it as it needs)."""
    if role == "admin":
        return _("%(name)s is now admin.", name=name)
    if role == "coordinator":
        return _("%(name)s is now coordinator.", name=name)
    if role == "resident":
        return _("%(name)s is now resident.", name=name)
    return _("%(name)s is now member.", name=name)


@bp.route("/users")
@roles_required("admin")
def users():
    q, q_error = text_arg("q")
    stmt = select(User)
    if q and not q_error:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(like), func.lower(User.email).like(like)))
    people = db.session.scalars(stmt.order_by(User.name).limit(100)).all()
    return render_template("admin/users.html", people=people, q=q, q_error=q_error, roles=ROLES, role_labels=ROLE_LABELS, form=RoleForm())


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@roles_required("admin")
def set_role(user_id: int):
    target = db.session.get(User, user_id)
    if target is None:
        abort(404)
    if not RoleForm().validate_on_submit():
        abort(400)
    try:
        accounts.set_role(current_user, target, request.form.get("role", ""))
    except NotAllowed:
        abort(403)
    except ServiceError as err:
        flash(err.message, "error")
    else:
        flash(_role_changed(target.name, target.role), "success")
    return redirect(url_for("admin.users", q=request.form.get("q", "")))


@bp.route("/audit")
@roles_required("admin")
def audit_log():
    action = request.args.get("action") or None
    if action and not re.fullmatch(r"[a-z_]{1,40}", action):
        action = None  # a choice from the list; anything else shows every action
    entries = audit.page(current_user, page_arg(), action=action)
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({e.actor_id for e in entries.items})))}
    return render_template("admin/audit.html", entries=entries, actors=actors, action=action,
                           action_label=audit.action_label)
