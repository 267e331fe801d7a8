"""The emergency fund: the members' page, asking, and the coordinators' desk."""
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.fund.forms import DecisionForm, PaymentForm, PledgeForm, ReceiptForm, RequestForm
from app.models import FundRequest, User
from app.models.fund import METHODS, PURPOSES
from app.services import Conflict, NotAllowed, ServiceError
from app.services import fund as fund_service
from app.services import fund_reports
from app.web import form_error, id_arg, roles_required, run_action

bp = Blueprint("fund", __name__, url_prefix="/fund")


@bp.app_template_filter("dollars")
def dollars_filter(cents):
    return fund_service.dollars(cents)


def _home(pledge_form=None, status=200):
    user = current_user._get_current_object()
    pledges, receipts = fund_reports.history_of(user)
    return render_template("fund/index.html", summary=fund_reports.public_summary(), pledges=pledges, receipts=receipts,
                           my_requests=fund_reports.requests_of(user) if user.role == "resident" else [],
                           pledge_form=pledge_form or PledgeForm(), methods=METHODS, purposes=PURPOSES), status


@bp.route("/")
def index():
    return _home()


@bp.route("/pledges", methods=["POST"])
def pledge():
    form = PledgeForm()
    if form.validate_on_submit():
        try:
            fund_service.pledge(current_user, form.amount.data, form.frequency.data, form.note.data)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Thank you for your pledge. A coordinator records the money when it arrives."), "success")
            return redirect(url_for("fund.index"))
    return _home(form, 422)


@bp.route("/requests/new", methods=["GET", "POST"])
def new_request():
    person = current_user._get_current_object()
    for_id = id_arg("for")
    if for_id and for_id != person.id:
        if not person.is_coordinator:
            abort(403)
        person = db.session.get(User, for_id)
        if person is None or person.role != "resident":
            abort(404)
    elif person.role not in ("resident",):
        if person.is_coordinator:
            flash(_("Choose the resident you are asking for from their page."), "info")
            return redirect(url_for("coord.residents"))
        abort(403)
    form = RequestForm()
    if form.validate_on_submit():
        try:
            req = fund_service.create_request(current_user, person, form.amount.data, form.purpose.data,
                                              form.payee.data, form.note.data)
        except NotAllowed:
            abort(403)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("The request is in. Two coordinators will look at it."), "success")
            return redirect(url_for("fund.request_detail", request_id=req.id))
    cfg = current_app.config
    limits = (fund_service.dollars(cfg["FUND_MAX_REQUEST_CENTS"]), fund_service.dollars(cfg["FUND_MAX_PER_PERSON_90D_CENTS"]))
    return render_template("fund/request_form.html", form=form, person=person, limits=limits), \
        (422 if request.method == "POST" else 200)


def _request_or_404(request_id: int) -> FundRequest:
    req = db.session.get(FundRequest, request_id)
    if req is None or not (current_user.is_coordinator or req.requester_id == current_user.id):
        abort(404)
    return req


@bp.route("/requests/<int:request_id>")
def request_detail(request_id: int):
    req = _request_or_404(request_id)
    return render_template("fund/request.html", req=req, purposes=PURPOSES, methods=METHODS,
                           progress=fund_service.approval_progress(current_user, req) if current_user.is_coordinator else None,
                           decision_form=DecisionForm(), payment_form=PaymentForm())


# The coordinators' desk ------------------------------------------------------------------------

def _desk(receipt_form=None, status=200):
    overview = fund_reports.overview(current_user)
    receipt_form = receipt_form or ReceiptForm()
    receipt_form.pledge_id.choices = [(0, _("Anonymous gift"))] + fund_reports.pledge_choices(current_user)
    return render_template("fund/manage.html", o=overview, receipt_form=receipt_form, decision_form=DecisionForm(),
                           payment_form=PaymentForm(), purposes=PURPOSES, methods=METHODS), status


@bp.route("/manage")
@roles_required("coordinator")
def manage():
    return _desk()


@bp.route("/receipts", methods=["POST"])
@roles_required("coordinator")
def receipt():
    form = ReceiptForm()
    form.pledge_id.choices = []
    if form.validate_on_submit():
        try:
            fund_service.record_receipt(current_user, form.amount.data, form.method.data, form.received_on.data,
                                        form.pledge_id.data or None, form.reference.data)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Receipt recorded."), "success")
            return redirect(url_for("fund.manage"))
    return _desk(form, 422)


def _decide(action, request_id: int, done: str):
    here = url_for("fund.request_detail", request_id=request_id)
    return run_action(action, done, here, here)


@bp.route("/requests/<int:request_id>/approve", methods=["POST"])
@roles_required("coordinator")
def approve(request_id: int):
    _request_or_404(request_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    return _decide(lambda: fund_service.approve(current_user, request_id), request_id, _("Your approval is recorded."))


@bp.route("/requests/<int:request_id>/decline", methods=["POST"])
@roles_required("coordinator")
def decline(request_id: int):
    _request_or_404(request_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    return _decide(lambda: fund_service.decline(current_user, request_id, form.reason.data), request_id, _("Declined."))


@bp.route("/requests/<int:request_id>/cancel", methods=["POST"])
@roles_required("coordinator")
def cancel(request_id: int):
    _request_or_404(request_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    return _decide(lambda: fund_service.cancel_approved(current_user, request_id, form.reason.data), request_id,
                   _("Cancelled; the grant is reversed in the ledger."))


@bp.route("/requests/<int:request_id>/pay", methods=["POST"])
@roles_required("coordinator")
def pay(request_id: int):
    req = _request_or_404(request_id)
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            fund_service.record_payment(current_user, request_id, form.paid_on.data, form.method.data, form.reference.data)
        except NotAllowed as err:
            abort(403, description=err.message)
        except Conflict as err:
            abort(409, description=err.message)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Payment recorded."), "success")
            return redirect(url_for("fund.request_detail", request_id=request_id))
    return render_template("fund/request.html", req=req, purposes=PURPOSES, methods=METHODS,
                           progress=fund_service.approval_progress(current_user, req), decision_form=DecisionForm(),
                           payment_form=form), 422


@bp.route("/transactions/<int:transaction_id>/reverse", methods=["POST"])
@roles_required("coordinator")
def reverse(transaction_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    ledger = url_for("fund.manage") + "#ledger"
    return run_action(lambda: fund_service.reverse(current_user, transaction_id, form.reason.data),
                      _("Reversed. Both entries stay in the ledger."), ledger, ledger)


@bp.route("/ledger.csv")
@roles_required("coordinator")
def ledger_csv():
    body = fund_reports.ledger_csv(current_user)
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=fund-ledger.csv", "Cache-Control": "no-store"})
