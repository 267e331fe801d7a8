"""The audit log: who did what to which object, and when. Rows are only ever added."""
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, User
from app.services import NotAllowed

# What the audit page shows for each action (the rows keep the code, never a translated word).
ACTION_LABELS = {
    "approve": _l("approve"), "reject": _l("reject"), "swap": _l("swap"), "manual_match": _l("manual match"),
    "contact_view": _l("contact view"), "role_change": _l("role change"), "case_note": _l("case note"),
    "answer_for_resident": _l("answer for resident"), "outcome": _l("outcome"),
    "fund_receipt": _l("fund receipt"), "fund_reversal": _l("fund reversal"), "fund_request": _l("fund request"),
    "fund_approve": _l("fund approve"), "fund_decline": _l("fund decline"), "fund_payment": _l("fund payment"),
    "fund_cancel": _l("fund cancel"), "fund_export": _l("fund export"),
    "account_delete": _l("account deleted"), "data_export": _l("data download"),
    "concern_report": _l("concern reported"), "concern_hold": _l("held after a safety report"),
    "concern_view": _l("concern read"), "concern_lift": _l("hold lifted"), "concern_resolve": _l("concern resolved"),
    "concern_action": _l("action on a concern"), "message_thread_read": _l("messages read after a report"),
    "message_for_resident": _l("message for resident"),
    "bar_add": _l("bar added"), "bar_lift": _l("bar lifted"), "help_rules": _l("rules for a kind of help"),
    "vetting_renew": _l("check recorded"), "vetting_remove": _l("check removed"), "invitation": _l("invitation"),
    "member_approved": _l("account approved"), "setting_change": _l("setting changed"),
    "stop_helping": _l("stopped helping with the other dates"),
    "notices_for_member": _l("notices chosen for a member"), "phone_added_for_member": _l("mobile number added for a member"),
    "phone_reassigned": _l("mobile number moved to another account"),
    "phone_removed_for_member": _l("mobile number removed for a member"), "text_request_dismiss": _l("request by text dismissed"),
    "api_token_create": _l("API token created"), "api_token_revoke": _l("API token revoked"),
    "csv_export": _l("CSV export"), "csv_import_preview": _l("CSV import checked"), "csv_import_start": _l("CSV import started"),
}


def action_label(action: str) -> str:
    """An action code as the audit page shows it, in the reader's language."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action.replace("_", " ")


def record(actor: User | None, action: str, subject_type: str, subject_id: int | None, **details) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits with its change)."""
    entry = AuditEntry(actor_id=actor.id if actor is not None else None, action=action,
                       subject_type=subject_type, subject_id=subject_id, details=details)
    db.session.add(entry)
    return entry


def page(actor: User, page_no: int = 1, per_page: int = 50, action: str | None = None):
    """Entries newest first, for admins; a pagination object."""
    if not actor.is_admin:
        raise NotAllowed(_("Only admins can read the audit log."))
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return db.paginate(stmt, page=page_no, per_page=per_page, error_out=False)
