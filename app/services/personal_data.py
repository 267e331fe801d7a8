"""The one place that names what is personal in each table, and how to recognise a person's name,
email and phone in free text. Deleting an account (erasure.py) applies these rules; the tests scan
every column of every table against the same identifiers.

Each table that points at a person is either given rules here (what deleting an account sets,
redacts or deletes), or listed in KEPT with the reason its rows stay (ids, codes and amounts only).
Whatever else hangs off the person's rows through foreign keys is still searched for their full
name, email and phone, which are replaced by REDACTED (erasure_scrub.py), so a table added later is
not left holding them even before it is named here. A word of the name alone ("Will", "May") is
replaced only in the person's own rows (`Rule.own`), never in other people's words.
"""
import html
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

from sqlalchemy import ColumnElement, Table, and_, or_, select

from app.extensions import db

REDACTED = "[deleted]"
PSEUDONYM = object()  # the users.name of a deleted account: "Former member 7f3a"


@dataclass(frozen=True)
class Copy:
    """Set a column to another column of the same row (a post's exact point becomes its public cell)."""

    column: str


@dataclass(frozen=True)
class Rule:
    """What deleting an account does to one table: `values` for the person's rows (None: NULL), or
    deleting them. A value of REDACTED replaces only what is there (NULL stays NULL)."""

    table: str
    whose: Callable[[dict[str, Table], int], ColumnElement]
    values: dict = field(default_factory=dict)
    delete: bool = False
    why: str = ""
    # The rows are the person's own (their post, what they wrote): each word of their name is
    # replaced in them. False where a row also holds other people's words (a match's feedback).
    own: bool = True


def _posts_of(t, uid):
    return select(t["posts"].c.id).where(t["posts"].c.owner_id == uid)


def _messages_of(t, uid):
    """Messages the person sent: typed by them, or by a coordinator writing on their side."""
    m, matches = t["messages"], t["matches"]
    mine = _posts_of(t, uid)
    return or_(m.c.author_id == uid,
               and_(m.c.side == "need", m.c.match_id.in_(select(matches.c.id).where(matches.c.need_id.in_(mine)))),
               and_(m.c.side == "offer", m.c.match_id.in_(select(matches.c.id).where(matches.c.offer_id.in_(mine)))))


def _numbers_of(t, uid):
    """Every number the person's texts went to: their mobile and each number a code was texted to for them."""
    users, codes = t["users"], t["phone_codes"]
    return select(users.c.mobile).where(users.c.id == uid, users.c.mobile.is_not(None)).union(
        select(codes.c.number).where(codes.c.user_id == uid))


RULES: tuple[Rule, ...] = (
    # Texts first: which went to the person is read from their mobile and their codes, both erased below.
    # A number's other texts belong to whoever holds it now (a mistyped or moved number): only
    # those addressed to nobody (codes, answers to an unknown number) go by the number.
    Rule("outbox_texts", lambda t, uid: or_(t["outbox_texts"].c.user_id == uid,
                                            and_(t["outbox_texts"].c.user_id.is_(None),
                                                 t["outbox_texts"].c.to_number.in_(_numbers_of(t, uid)))), delete=True,
         why="texts queued or sent to them, and codes and answers sent to their numbers, as their emails go"),
    Rule("phone_codes", lambda t, uid: t["phone_codes"].c.user_id == uid, delete=True,
         why="the numbers a code was texted to for them"),
    Rule("notice_choices", lambda t, uid: t["notice_choices"].c.user_id == uid, delete=True),
    Rule("text_choices", lambda t, uid: t["text_choices"].c.user_id == uid, delete=True,
         why="the short codes of the last list they were texted"),
    Rule("text_requests", lambda t, uid: t["text_requests"].c.user_id == uid, delete=True,
         why="what they asked for by text; a need posted from it is a post, and follows the posts rule"),
    Rule("inbound_texts", lambda t, uid: t["inbound_texts"].c.user_id == uid, {"body": None},
         why="what they texted us; the time, the command word and what came of it stay as counts"),
    # CSV imports (before "users": the uploaded lines are found by the address, erased below).
    Rule("import_rows", lambda t, uid: or_(
        t["import_rows"].c.email.in_(select(t["users"].c.email).where(t["users"].c.id == uid)),
        t["import_rows"].c.job_id.in_(select(t["import_jobs"].c.id).where(t["import_jobs"].c.created_by_id == uid))),
         delete=True, why="uploaded lines naming them, or uploaded by them (kept a day at most anyway)"),
    Rule("import_keys", lambda t, uid: or_(t["import_keys"].c.user_id == uid,
                                           t["import_keys"].c.post_id.in_(_posts_of(t, uid))), delete=True,
         why="a keyed hash of their address or their post's line, which made a re-import skip them"),
    Rule("users", lambda t, uid: t["users"].c.id == uid,
         {"name": PSEUDONYM, "email": None, "phone": None, "zip_code": None, "town": None, "state": None, "lat": None,
          "lon": None, "contact_name": None, "contact_detail": None, "password_hash": None, "email_confirmed_at": None,
          "contact_method": "email", "role": "member", "language": "en", "mobile": None, "mobile_verified_at": None,
          "mobile_consent_by_id": None, "mobile_consent_at": None, "texts_stopped_at": None},
         why="the row stays under a pseudonym for the books and the audit log; role back to member, so no list shows it"),
    Rule("posts", lambda t, uid: t["posts"].c.owner_id == uid,
         {"details": "", "street_address": None, "pickup_area": None, "lat": Copy("cell_lat"), "lon": Copy("cell_lon")},
         why="the other side of a match keeps the title, town and category; never the exact place"),
    Rule("post_terms", lambda t, uid: t["post_terms"].c.post_id.in_(_posts_of(t, uid)), delete=True,
         why="the words of the details, which are gone"),
    Rule("matches", lambda t, uid: t["matches"].c.offer_id.in_(_posts_of(t, uid)),
         {"note": REDACTED, "offer_feedback": REDACTED}, why="their words as the helper", own=False),
    Rule("matches", lambda t, uid: t["matches"].c.need_id.in_(_posts_of(t, uid)),
         {"need_feedback": REDACTED}, why="their words as the person asking", own=False),
    Rule("messages", _messages_of, {"body": REDACTED}, why="what they wrote; the other side's words stay theirs"),
    Rule("case_notes", lambda t, uid: t["case_notes"].c.resident_id == uid, delete=True,
         why="coordinators' notes about them"),
    Rule("session_feedback", lambda t, uid: t["session_feedback"].c.user_id == uid, {"body": REDACTED},
         why="what they wrote; the host's count stays"),
    Rule("session_series", lambda t, uid: t["session_series"].c.host_id == uid, {"place_details": ""},
         why="the exact place of groups they hosted"),
    Rule("group_sessions", lambda t, uid: t["group_sessions"].c.series_id.in_(
        select(t["session_series"].c.id).where(t["session_series"].c.host_id == uid)), {"place_details": None},
         why="the exact place of groups they hosted"),
    Rule("session_seats", lambda t, uid: t["session_seats"].c.user_id == uid, {"share_contact": False},
         why="attendance counts stay"),
    Rule("series_members", lambda t, uid: t["series_members"].c.user_id == uid, {"share_contact": False}),
    Rule("fund_pledges", lambda t, uid: t["fund_pledges"].c.member_id == uid, {"note": None, "active": False},
         why="amounts stay for the books; a deleted member's pledge is no longer counted on"),
    Rule("fund_requests", lambda t, uid: t["fund_requests"].c.requester_id == uid,
         {"note": None, "decline_reason": None}, why="amounts, purpose, payee and payment stay for the books"),
    Rule("digest_subscriptions", lambda t, uid: t["digest_subscriptions"].c.user_id == uid, delete=True),
    Rule("calendar_feeds", lambda t, uid: t["calendar_feeds"].c.user_id == uid, delete=True),
    Rule("vetting_checks", lambda t, uid: t["vetting_checks"].c.user_id == uid, delete=True,
         why="checks of someone who no longer volunteers; no list or reminder is to show them"),
    Rule("api_tokens", lambda t, uid: t["api_tokens"].c.user_id == uid, delete=True,
         why="their keys to the API (named in their words); a deleted account calls nothing"),
)

# Tables that point at a person and keep their rows as they are: ids, codes, dates and amounts only
# (their free text, if any, is still searched for the person's name, email and phone).
KEPT = {
    "audit_log": "append-only; details hold codes and ids, never names (the writers keep it so)",
    "ledger_transactions": "append-only books; typed words live in ledger_notes",
    "fund_approvals": "who approved what, for the books",
    "digests": "one row per digest sent: counts",
    "need_occurrences": "dates and states of help that repeats",
    "member_approvals": "a coordinator's decision (a code)",
    "bars": "kept for safety; a name typed in the reason is replaced",
    "blocks": "kept so the other person stays apart; the context is a post title",
    "concerns": "reports stay for coordinators; a name, email or phone in them is replaced",
    "invitations": "who invited whom; the address is erased (any column named email)",
    "help_rules": "a coordinator's rule (codes)",
    "site_settings": "an admin's setting",
    "suggestions": "scores between posts",
    "import_jobs": "an upload's counts and who made it; its problems name lines and columns, never values",
}


def named_tables() -> set[str]:
    return {rule.table for rule in RULES} | set(KEPT)


# Recognising the person in text ---------------------------------------------------------------

# Particles of names that are also everyday words in the texts around them ("María de la Luz").
_PARTICLES = {"de", "la", "las", "los", "el", "del", "da", "das", "do", "dos", "di", "du", "van", "von", "der", "den",
              "le", "y", "e", "al", "bin", "ibn", "jr", "sr", "ii", "iii"}
MIN_PHONE_DIGITS = 7


def _words(name: str | None) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[\W_]+", name or "") if w)


def _phrase(words: tuple[str, ...]) -> str:
    """The words in this order, whole, with any spacing or punctuation between them."""
    return r"(?<!\w)" + r"[\W_]+".join(re.escape(w) for w in words) + r"(?!\w)"


@dataclass(frozen=True)
class Identifiers:
    """What names a person in free text.

    In other people's text (their messages, feedback, a coordinator's ledger note, an email to
    someone else) only what cannot be an everyday word: the full name (first and last together),
    the email and the phone, so "Will May" leaving does not turn Hal's "I will be there" into
    "I [deleted] be there". In the person's own rows (`own_pattern`: their posts, what they wrote)
    also each word of their name on its own."""

    words: tuple[str, ...]  # each word of the name, particles left out
    name: tuple[str, ...]  # the whole name, word by word (two or more words, else empty)
    email: str | None
    phone: str | None
    # The verified mobile number for texts (E.164) as (country code, national digits), if any.
    mobile: tuple[str, str] | None = None

    @classmethod
    def of(cls, user) -> "Identifiers":
        all_words = _words(user.name)
        words = tuple(dict.fromkeys(w for w in all_words if len(w) >= 2 and w.lower() not in _PARTICLES))
        digits = re.sub(r"\D", "", user.phone or "")
        return cls(words, all_words if len(all_words) >= 2 else (), (user.email or "").strip().lower() or None,
                   (user.phone or "").strip() if len(digits) >= MIN_PHONE_DIGITS else None,
                   _mobile_parts(getattr(user, "mobile", None)))

    @property
    def full_name(self) -> str | None:
        return " ".join(self.name) or None

    def _parts(self, own: bool) -> list[str]:
        parts = [re.escape(self.email)] if self.email else []  # first: "will.may@..." is not the name "Will May"
        if self.name:
            parts.append(_phrase(self.name))
            escaped = _words(html.escape(" ".join(self.name)))  # as an HTML body writes it (O&#x27;Brien)
            if escaped != self.name:
                parts.append(_phrase(escaped))
        if own:
            parts += [rf"(?<!\w){re.escape(w)}(?!\w)" for w in self.words]
        if self.phone:
            digits = re.sub(r"\D", "", self.phone)
            # The same digits however they are spaced or punctuated: 651-555-0142, (651) 555 0142.
            parts.append(r"(?<!\d)" + r"[\s().+\-]*".join(digits) + r"(?!\d)")
        if self.mobile:
            country, national = self.mobile
            # +1 651 555 0142, 16515550142, (651) 555-0142 (its bracket too), and a trunk 0 (07911 123456).
            parts.append(rf"(?<!\d)(?:\+?{country}[\s().\-]*|0|\()?" + r"[\s().+\-]*".join(national) + r"(?!\d)")
        return parts

    @cached_property
    def pattern(self) -> re.Pattern | None:
        """The full name, the email, the phone: for anyone's text."""
        parts = self._parts(own=False)
        return re.compile("|".join(parts), re.IGNORECASE) if parts else None

    @cached_property
    def own_pattern(self) -> re.Pattern | None:
        """Also each word of the name: for the person's own rows only."""
        parts = self._parts(own=True)
        return re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def needles(self) -> list[str]:
        """Plain substrings (lower-cased) for a first, indexed-friendly LIKE filter before `pattern`."""
        first = [self.name[0].lower()] if self.name else []  # the full name in any spacing starts with it
        return first + [x.lower() for x in (self.email, self.phone) if x] + \
            ([re.sub(r"\D", "", self.phone)[:3]] if self.phone else []) + ([self.mobile[1][:3]] if self.mobile else [])

    def mentions(self, text: str | None) -> bool:
        pattern = self.pattern
        return bool(text) and pattern is not None and pattern.search(text) is not None


def _mobile_parts(e164: str | None) -> tuple[str, str] | None:
    if not e164:
        return None
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    national = phonenumbers.national_significant_number(number)
    return (str(number.country_code), national) if len(national) >= MIN_PHONE_DIGITS else None


def scrub(value, ids: Identifiers, pattern: re.Pattern | None = None):
    """`value` (text, or JSON made of dicts, lists and text) with every mention of the person replaced."""
    pattern = pattern if pattern is not None else ids.pattern
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [scrub(v, ids, pattern) for v in value]
    if isinstance(value, dict):
        return {scrub(k, ids, pattern): scrub(v, ids, pattern) for k, v in value.items()}
    return value


def tables() -> dict[str, Table]:
    return dict(db.metadata.tables)
