"""Coordinators' safety pages: a member's checks and bars, checks expiring soon, the rules for
each kind of help, and every bar in force. Members get 403 on all of them."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.ids import parse_id
from app.models import User
from app.models.safety import AUDIENCES, CHECK_KINDS, RULE_CATEGORIES
from app.models.posts import CATEGORIES
from app.safety.forms import ActionForm, BarForm, CheckForm, RemoveCheckForm, RulesForm
from app.services import Conflict, NotAllowed, ServiceError, bars, help_rules, vetting
from app.web import form_error, roles_required, run_action

bp = Blueprint("safety", __name__, url_prefix="/coordinate")


def _person(user_id: int) -> User:
    """The member whose page this is; 404 for the reader's own (another coordinator keeps their
    checks and bars, as with reports of concern about them)."""
    person = db.session.get(User, user_id)
    if person is None or person.id == current_user.id:
        abort(404)
    return person


def _member_page(person: User, check_form: CheckForm | None = None, bar_form: BarForm | None = None, status: int = 200):
    actor = current_user._get_current_object()
    bar_form = bar_form or BarForm()
    bar_form.resident_id.choices = [(0, _("Every resident"))] + [
        (r.id, r.name) for r in bars.residents_to_choose(person)]
    return render_template("safety/member.html", person=person, checks=vetting.checks_of(actor, person),
                           person_bars=bars.bars_of(actor, person), check_form=check_form or CheckForm(),
                           bar_form=bar_form, remove_form=RemoveCheckForm(), action_form=ActionForm(),
                           kinds=CHECK_KINDS), status


@bp.route("/members/<int:user_id>/safety")
@roles_required("coordinator")
def member(user_id: int):
    """A member's checks (add, renew, remove) and bars."""
    return _member_page(_person(user_id))


@bp.route("/members/<int:user_id>/checks", methods=["POST"])
@roles_required("coordinator")
def save_check(user_id: int):
    person = _person(user_id)
    form = CheckForm()
    if form.validate_on_submit():
        try:
            check = vetting.save_check(current_user, person, form.kind.data, form.checked_on.data, form.expires_on.data)
        except NotAllowed:
            abort(403)
        except ServiceError as err:
            db.session.rollback()
            form_error(form, err)
        else:
            flash(_("%(check)s is recorded for %(name)s.", check=check.label, name=person.name), "success")
            return redirect(url_for("safety.member", user_id=person.id))
    return _member_page(person, check_form=form, status=422)


@bp.route("/members/<int:user_id>/checks/remove", methods=["POST"])
@roles_required("coordinator")
def remove_check(user_id: int):
    person = _person(user_id)
    form = RemoveCheckForm()
    if not form.validate_on_submit():
        abort(400)
    back = url_for("safety.member", user_id=person.id)
    return run_action(lambda: vetting.remove_check(current_user, person, form.kind.data), _("The check is removed."),
                      back, back)


@bp.route("/members/<int:user_id>/bars", methods=["POST"])
@roles_required("coordinator")
def add_bar(user_id: int):
    person = _person(user_id)
    form = BarForm()
    form.resident_id.choices = [(0, "")] + [(r.id, r.name) for r in bars.residents_to_choose(person)]
    if form.validate_on_submit():
        try:
            bars.add_bar(current_user, person, form.resident_id.data, form.reason.data)
        except NotAllowed as err:
            abort(403, description=err.message)
        except Conflict as err:
            abort(409, description=err.message)
        except ServiceError as err:
            db.session.rollback()
            form_error(form, err)
        else:
            flash(_("The bar is in place. Proposals waiting between them were withdrawn."), "success")
            return redirect(url_for("safety.member", user_id=person.id) + "#bars")
    return _member_page(person, bar_form=form, status=422)


@bp.route("/bars/<int:bar_id>/lift", methods=["POST"])
@roles_required("coordinator")
def lift_bar(bar_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    back = parse_id(request.form.get("back_to"))
    url = url_for("safety.member", user_id=back) + "#bars" if back else url_for("safety.all_bars")
    return run_action(lambda: bars.lift_bar(current_user, bar_id), _("The bar is lifted."), url, url)


@bp.route("/bars")
@roles_required("coordinator")
def all_bars():
    """Every bar in force, with its reason."""
    return render_template("safety/all_bars.html", active=bars.active_bars(current_user), action_form=ActionForm())


@bp.route("/checks/expiring")
@roles_required("coordinator")
def expiring():
    """Checks expiring soon (and expired), soonest first."""
    return render_template("safety/expiring.html", checks=vetting.expiring(current_user),
                           days=vetting.EXPIRY_NOTICE_DAYS, kinds=CHECK_KINDS)


@bp.route("/rules", methods=["GET", "POST"])
@roles_required("coordinator")
def rules():
    """What each kind of help needs: the checks a helper must hold, per category and audience."""
    form = RulesForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                help_rules.set_rules(current_user, form.rule.data)
            except NotAllowed:
                abort(403)
            except ServiceError as err:
                db.session.rollback()
                form_error(form, err)
            else:
                flash(_("The rules are saved. They apply to every match from now on."), "success")
                return redirect(url_for("safety.rules"))
        status = 422
    chosen = set(form.rule.data or ()) if request.method == "POST" else help_rules.current()
    return render_template("safety/rules.html", form=form, chosen=chosen, categories=RULE_CATEGORIES,
                           category_labels=CATEGORIES, audiences=AUDIENCES, kinds=CHECK_KINDS), status
