"""A verified mobile number: parsed with `phonenumbers`, stored in E.164, and set on the account only
once a six-digit code texted to it was typed back.

A member adds their own number on their account. A coordinator adds the number of someone they
answer for (a resident who cannot log in: disclosure.answers_for_others), only with the resident's
recorded consent; the resident reads the code back. Either way a mistyped number never gets the
member's texts: until the code comes back, the number is only on the code's row.

A code lives PHONE_CODE_MINUTES, dies after PHONE_CODE_TRIES wrong tries, and at most
PHONE_CODES_PER_HOUR are texted to one member, and to one number, in an hour (counted here from
the phone_codes rows, so every way in obeys it). Only an HMAC of the code is kept. A number proven
by one account leaves any other account that held it (possession was just proven); nothing about
that other account is said to anyone.
"""
import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta

import phonenumbers
from flask import current_app
from flask_babel import gettext as _, ngettext
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import OutboxText, PhoneCode, User
from app.services import Conflict, FieldError, NotAllowed, audit
from app.services.disclosure import answers_for_others
from app.timeutil import utcnow

log = logging.getLogger(__name__)
TEXTABLE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
_TYPED = re.compile(r"^[0-9+().\-\s]+$")


# Numbers ----------------------------------------------------------------------------------------

def parse(raw: str | None, field: str = "number") -> str:
    """What was typed, as E.164 ("+16515550142"); FieldError(field) with a sentence otherwise.

    Without a leading + (or 00) the number is read in PHONE_REGION. Only a number that is valid
    and can take texts (mobile, or in the US and Canada "fixed line or mobile") is accepted."""
    typed = (raw or "").strip()
    if not typed:
        raise FieldError(field, _("Enter a mobile number."))
    if not _TYPED.match(typed):
        raise FieldError(field, _("Use digits, spaces and + ( ) - only."))
    if typed.startswith("00"):
        typed = "+" + typed[2:]
    try:
        number = phonenumbers.parse(typed, current_app.config["PHONE_REGION"])
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise FieldError(field, _("That is not a phone number we can read. Check the digits: a US number has 10, "
                                  "and a number from another country starts with + and its country code."))
    if phonenumbers.number_type(number) not in TEXTABLE:
        raise FieldError(field, _("That number cannot get texts (it is a landline, toll-free or other service "
                                  "number). Enter a mobile number."))
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def display(e164: str | None) -> str:
    """A stored number as people write it: nationally for the community's country, "(651) 555-0142";
    with its country code otherwise, "+44 7911 123456"."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = current_app.config["PHONE_REGION"]
    national = phonenumbers.region_code_for_number(number) == region
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL if national else PhoneNumberFormat.INTERNATIONAL)


# Who may ---------------------------------------------------------------------------------------

def may_manage(actor: User, user: User) -> bool:
    """A member manages their own number; a coordinator, the number of someone who cannot log in."""
    if user.deleted_at is not None:
        return False
    return actor.id == user.id or answers_for_others(actor, user)


def _check(actor: User, user: User) -> bool:
    """NotAllowed unless `actor` may; True when a coordinator acts for someone else."""
    if not may_manage(actor, user):
        raise NotAllowed(_("You can only change your own mobile number."))
    return actor.id != user.id


# Codes -----------------------------------------------------------------------------------------

def _hash(code_id: int, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"phone-code:{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _live(user_id: int, now: datetime):
    """The member's code still waiting to be typed (the newest; asking again ends the older ones)."""
    return (select(PhoneCode).where(PhoneCode.user_id == user_id, PhoneCode.used_at.is_(None),
                                    PhoneCode.expires_at > now, PhoneCode.tries < current_app.config["PHONE_CODE_TRIES"])
            .order_by(PhoneCode.id.desc()).limit(1))


def pending(user: User) -> PhoneCode | None:
    """The code waiting for this member, if any (for the page: "we texted a code to ...")."""
    return db.session.scalar(_live(user.id, utcnow()))


def _codes_since(column, value, since: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(PhoneCode).where(column == value,
                                                                              PhoneCode.created_at > since)) or 0


def request_code(actor: User, user: User, raw_number: str | None, consent: bool = False) -> PhoneCode:
    """Text a new code to the number typed for `user` (commits). A coordinator must have recorded
    the resident's consent (FieldError("consent") without it). FieldError("number") for a number
    that cannot be texted, or when the hourly number of codes is reached."""
    for_other = _check(actor, user)
    number = parse(raw_number)
    if for_other and not consent:
        raise FieldError("consent", _("Ask the resident first: tick this only if they agreed to get texts at this number."))
    if user.mobile == number and user.mobile_verified_at is not None:
        raise FieldError("number", _("This number is already confirmed."))
    cfg = current_app.config
    now = utcnow()
    # One request at a time per member, so two at once cannot both slip under the hourly count.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    since = now - timedelta(hours=1)
    per_hour = cfg["PHONE_CODES_PER_HOUR"]
    if _codes_since(PhoneCode.user_id, user.id, since) >= per_hour or _codes_since(PhoneCode.number, number, since) >= per_hour:
        raise FieldError("number", ngettext("We can text only %(num)s code an hour. Please wait an hour, then ask again.",
                                            "We can text only %(num)s codes an hour. Please wait an hour, then ask again.",
                                            per_hour))
    # A new code ends any code still waiting for this member: only the newest can be typed.
    db.session.execute(update(PhoneCode).where(PhoneCode.user_id == user.id, PhoneCode.used_at.is_(None),
                                               PhoneCode.expires_at > now).values(expires_at=now)
                       .execution_options(synchronize_session=False))
    code = f"{secrets.randbelow(10 ** 6):06d}"
    row = PhoneCode(user_id=user.id, number=number, code_hash="", created_at=now, tries=0,
                    expires_at=now + timedelta(minutes=cfg["PHONE_CODE_MINUTES"]), requested_by_id=actor.id,
                    consent_by_id=actor.id if for_other else None)
    db.session.add(row)
    db.session.flush()
    row.code_hash = _hash(row.id, code)
    _text_code(user, number, code)
    db.session.commit()
    log.info("phone code %s texted for member %s (by %s)", row.id, user.id, actor.id)
    return row


def _text_code(user: User, number: str, code: str) -> None:
    """"<community> code: 123456. It expires in 10 minutes.", in the member's language, to the
    number typed (not yet theirs, so not through `user`): sent at once, whatever the hour."""
    from app.i18n import in_language
    from app.services.texts import queue_text, render_text

    with in_language(user.language):
        body = render_text("phone_code", code=code, minutes=current_app.config["PHONE_CODE_MINUTES"])
    queue_text(None, body, kind="phone_code", to_number=number, quiet=False)


def _clean_code(typed: str | None) -> str:
    code = re.sub(r"[\s\-]", "", typed or "")
    if not code:
        raise FieldError("code", _("Enter the code from the text."))
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        raise FieldError("code", _("The code has six digits."))
    return code


def verify(actor: User, user: User, typed: str | None) -> str:
    """The code typed back: when right, the number becomes `user`'s mobile (commits) and is
    returned. FieldError("code") when wrong (the try is counted), dead or expired."""
    for_other = _check(actor, user)
    code = _clean_code(typed)
    now = utcnow()
    row = db.session.scalar(_live(user.id, now).with_for_update())
    if row is None:
        raise FieldError("code", _("No code is waiting: it expired or was tried too often. Ask for a new code."))
    if not hmac.compare_digest(_hash(row.id, code), row.code_hash):
        row.tries += 1
        left = current_app.config["PHONE_CODE_TRIES"] - row.tries
        db.session.commit()
        if left <= 0:
            raise FieldError("code", _("That code is not right, and it was tried too often. Ask for a new code."))
        raise FieldError("code", ngettext("That code is not right. You can try %(num)s more time.",
                                          "That code is not right. You can try %(num)s more times.", left))
    row.used_at = now
    number = row.number
    _take_number(actor, user, number, now)
    if for_other:
        user.mobile_consent_by_id, user.mobile_consent_at = row.consent_by_id or actor.id, now
        audit.record(actor, "phone_added_for_member", "user", user.id, consent=True)
    else:
        user.mobile_consent_by_id = user.mobile_consent_at = None
    try:
        db.session.commit()
    except IntegrityError:  # another account proved the same number at the same moment
        db.session.rollback()
        raise Conflict(_("Something changed at the same moment. Please ask for a new code.")) from None
    log.info("member %s confirmed a mobile number (by %s)", user.id, actor.id)
    return number


def _take_number(actor: User, user: User, number: str, now: datetime) -> None:
    """The number becomes `user`'s: any other account holding it loses it (and its waiting texts);
    `user`'s texts still waiting for an old number are cancelled."""
    from app.services.texts import cancel_waiting

    other = db.session.scalar(select(User).where(User.mobile == number, User.id != user.id).with_for_update())
    if other is not None:
        other.mobile = other.mobile_verified_at = other.mobile_consent_by_id = other.mobile_consent_at = None
        cancel_waiting(other.id)
        audit.record(actor, "phone_reassigned", "user", other.id)
        log.info("a mobile number moved from member %s to member %s", other.id, user.id)
        db.session.flush()  # users.mobile is unique: free it before it is set below
    if user.mobile and user.mobile != number:
        _cancel_texts_to(user.id, user.mobile)
    if user.mobile != number:
        user.texts_stopped_at = None  # a new number, just proven: its owner wants texts there
    user.mobile, user.mobile_verified_at = number, now


def _cancel_texts_to(user_id: int, number: str) -> None:
    db.session.execute(update(OutboxText).where(OutboxText.user_id == user_id, OutboxText.to_number == number,
                                                OutboxText.status == "pending")
                       .values(status="cancelled", claim_token=None).execution_options(synchronize_session=False))


def remove(actor: User, user: User) -> None:
    """The member's number leaves their account (commits): no more texts, waiting ones cancelled,
    a code still waiting ended. A coordinator's removal is audited."""
    from app.services.texts import cancel_waiting

    for_other = _check(actor, user)
    now = utcnow()
    had = user.mobile is not None
    user.mobile = user.mobile_verified_at = user.mobile_consent_by_id = user.mobile_consent_at = None
    cancel_waiting(user.id)
    db.session.execute(update(PhoneCode).where(PhoneCode.user_id == user.id, PhoneCode.used_at.is_(None),
                                               PhoneCode.expires_at > now).values(expires_at=now)
                       .execution_options(synchronize_session=False))
    if for_other and had:
        audit.record(actor, "phone_removed_for_member", "user", user.id)
    db.session.commit()
