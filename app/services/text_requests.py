"""Asking for help by text: "NEED ride Tuesday 9am clinic" read into a draft need.

`parse` reads what it can (the category from keywords, the day, the time, in English and Spanish)
and keeps the rest as the title; it never raises, whatever it is sent. A member who can log in gets
a link to check the draft and post it (/posts/new?from_text=<id>, prefilled by app/texts/prefill.py);
a resident's request (or that of anyone who cannot log in) waits in the coordinators' list
(/coordinate/texts), and a coordinator posts it for them through the post-for-resident form.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.extensions import db
from app.models import TextRequest, User
from app.services import Conflict, NotAllowed, audit
from app.timeutil import utc_to_local, utcnow

MAX_BODY = 1600
MAX_TITLE = 120

# Keywords -> category (app/models/posts.py CATEGORIES). Money is not a post (it goes through the
# fund), so no word gives "emergency_funds". Phrases are tuples of words, matched unaccented.
_STRONG = {
    "rides": ("ride", "rides", "lift", "drive", "driver", "driving", "pickup", "pick up", "appointment",
              "transport", "transportation", "aventon", "raite", "viaje", "transporte", "cita", "llevar", "llevarme",
              "recoger", "recogerme"),
    "food": ("food", "groceries", "grocery", "meal", "meals", "dinner", "lunch", "breakfast", "comida", "despensa",
             "mandado", "mandados", "cena", "almuerzo", "desayuno", "alimentos", "viveres"),
    "household_items": ("furniture", "bed", "beds", "mattress", "clothes", "clothing", "coat", "blanket", "blankets",
                        "dishes", "table", "chair", "couch", "dresser", "muebles", "cama", "colchon", "ropa", "abrigo",
                        "cobija", "cobijas", "mesa", "silla", "sofa", "trastes"),
    "skills": ("fix", "fixing", "repair", "repairing", "resume", "workshop", "class", "tutor", "tutoring", "arreglar",
               "reparar", "curriculum", "taller", "clase"),
    "peer_support": ("talk", "talking", "meeting", "someone to talk", "hablar", "platicar", "reunion", "junta"),
}
# Weaker words: they decide only when no word above is in the text ("help fixing my car" is skills).
_WEAK = {
    "rides": ("car", "carro", "coche"),
    "skills": ("help with", "ayuda con"),
    "peer_support": ("support", "apoyo"),
    "household_items": ("items", "things", "cosas", "articulos"),
}

# For a ride: the kind of place it is to (app/models/posts.py DESTINATION_KINDS).
_DESTINATIONS = {
    "medical": ("clinic", "doctor", "doctors", "hospital", "dentist", "appointment", "pharmacy", "therapy", "clinica",
                "medico", "doctora", "hospital", "dentista", "cita", "farmacia", "terapia"),
    "work": ("work", "job", "interview", "shift", "trabajo", "entrevista", "chamba"),
    "support_meeting": ("meeting", "aa", "na", "group", "reunion", "junta", "grupo"),
    "errands": ("store", "errand", "errands", "shopping", "bank", "groceries", "tienda", "mandados", "banco", "compras"),
}
_WEEKDAYS = {"monday": 0, "mon": 0, "lunes": 0, "tuesday": 1, "tue": 1, "tues": 1, "martes": 1,
             "wednesday": 2, "wed": 2, "miercoles": 2, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "jueves": 3,
             "friday": 4, "fri": 4, "viernes": 4, "saturday": 5, "sat": 5, "sabado": 5,
             "sunday": 6, "sun": 6, "domingo": 6}
_MONTHS = {"jan": 1, "january": 1, "enero": 1, "ene": 1, "feb": 2, "february": 2, "febrero": 2,
           "mar": 3, "march": 3, "marzo": 3, "apr": 4, "april": 4, "abril": 4, "abr": 4, "may": 5, "mayo": 5,
           "jun": 6, "june": 6, "junio": 6, "jul": 7, "july": 7, "julio": 7, "aug": 8, "august": 8, "agosto": 8,
           "sep": 9, "sept": 9, "september": 9, "septiembre": 9, "setiembre": 9, "oct": 10, "october": 10,
           "octubre": 10, "nov": 11, "november": 11, "noviembre": 11, "dec": 12, "december": 12, "diciembre": 12,
           "dic": 12}
_TODAY = {"today", "tonight", "hoy"}
_TOMORROW = {"tomorrow", "tmrw", "tmr", "tomorow", "manana"}
_NOON = {"noon", "midday", "mediodia"}
_MIDNIGHT = {"midnight", "medianoche"}
# Words that only lead into a day or time ("on Tuesday", "at 9am", "el martes a las 9"): dropped
# from the title with what they lead into.
_LEAD_INS = {"on", "at", "this", "next", "by", "around", "el", "a", "las", "la", "los", "este", "esta", "proximo",
             "de", "para"}
_MARK = r"(a|p|am|pm|a\.m\.?|p\.m\.?)?"
# 9am, 9:30 pm, 14:00, 9.30a; a range (9-11am, 9:30pm-11) gives its start.
_CLOCK = re.compile(rf"^(\d{{1,2}})(?:[:.]([0-5]\d))?{_MARK}(?:[-–](\d{{1,2}})(?:[:.][0-5]\d)?{_MARK})?$")
_SLASH = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?$")
_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|o|a)?$")
_EDGE = re.compile(r"^[^\w/:.]+|[^\w]+$")


def _plain(word: str) -> str:
    """Lower case, accents off, surrounding punctuation off: what keywords are compared with."""
    word = unicodedata.normalize("NFKD", word.lower())
    word = "".join(c for c in word if not unicodedata.combining(c))
    return _EDGE.sub("", word)


@dataclass
class Parsed:
    category: str | None = None
    day: date | None = None
    at: time | None = None
    title: str = ""
    destination: str | None = None  # a ride's kind of destination
    words: dict = field(default_factory=dict)  # what -> the words it was read from

    @property
    def starts_at(self) -> datetime | None:
        """Naive community time, when both the day and the time were given."""
        return datetime.combine(self.day, self.at) if self.day and self.at else None

    def as_dict(self) -> dict:
        out = {"title": self.title}
        if self.category:
            out["category"] = {"value": self.category, "words": self.words.get("category", "")}
        if self.day:
            out["date"] = {"value": self.day.isoformat(), "words": self.words.get("date", "")}
        if self.destination:
            out["destination"] = self.destination
        if self.at:
            out["time"] = {"value": self.at.strftime("%H:%M"), "words": self.words.get("time", "")}
        return out


def parse(text: str, today: date, now: time | None = None, language: str = "en") -> Parsed:
    """Read a NEED text (without the word NEED). `today`/`now` are the community's local date and
    time; `language` decides whether 5/12 is May 12 (en) or 5 December (es). Never raises."""
    try:
        return _parse(text or "", today, now, language)
    except Exception:  # noqa: BLE001 - a text we cannot read is kept whole as the title
        return Parsed(title=_tidy((text or "").split()))


def _parse(text: str, today: date, now: time | None, language: str) -> Parsed:
    raw = text.split()
    plain = [_plain(w) for w in raw]
    used: set[int] = set()
    out = Parsed()
    _find_time(plain, raw, used, out)
    _find_day(plain, raw, used, out, today, now, language)
    _find_category(plain, raw, out)
    if out.category == "rides":
        out.destination = next((kind for word in plain for kind, words in _DESTINATIONS.items() if word in words), None)
    keep = [raw[i] for i in range(len(raw)) if i not in used and not _leads_in(plain, used, i)]
    out.title = _tidy(keep)
    return out


def _leads_in(plain: list[str], used: set[int], i: int) -> bool:
    """A lead-in word ("on", "at", "el") right before a day or time, or before another lead-in that is."""
    j = i
    while j < len(plain) and j not in used and plain[j] in _LEAD_INS:
        j += 1
    return j != i and j in used


def _tidy(words: list[str]) -> str:
    title = " ".join(words).strip(" ,;:-–—")
    title = title[:1].upper() + title[1:]
    return title[:MAX_TITLE].rstrip()


def _find_time(plain, raw, used, out) -> None:
    for i, word in enumerate(plain):
        if i in used:
            continue
        if word in _NOON or (word == "medio" and i + 1 < len(plain) and plain[i + 1] == "dia"):
            span = [i, i + 1] if word == "medio" else [i]
            _take(out, "time", time(12, 0), raw, span, used)
            return
        if word in _MIDNIGHT:
            _take(out, "time", time(0, 0), raw, [i], used)
            return
        m = _CLOCK.match(word)
        if not m:
            continue
        hour, minute, mark = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or m.group(5) or "")[:1]
        span = [i]
        nxt = plain[i + 1] if i + 1 < len(plain) else ""
        if not mark and nxt in ("am", "pm", "a.m", "p.m", "a.m.", "p.m.", "a", "p"):
            mark, span = nxt[:1], [i, i + 1]
        elif not mark and nxt == "de" and i + 3 < len(plain) + 1 and plain[i + 2:i + 3] == ["la"]:
            part = plain[i + 3] if i + 3 < len(plain) else ""
            if part in ("manana", "tarde", "noche", "madrugada"):
                mark, span = ("a" if part in ("manana", "madrugada") else "p"), [i, i + 1, i + 2, i + 3]
        if mark:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if mark == "p" else 0)
        elif m.group(2) is None or hour > 23:
            continue  # a bare number ("2 beds") is not a time; "14:00" and "9:30" are
        _take(out, "time", time(hour, minute), raw, span, used)
        return


def _find_day(plain, raw, used, out, today, now, language) -> None:
    for i, word in enumerate(plain):
        if i in used:
            continue
        nxt = plain[i + 1] if i + 1 < len(plain) else ""
        if word in _TODAY or (word == "esta" and nxt == "noche"):
            _take(out, "date", today, raw, [i, i + 1] if word == "esta" else [i], used)
            return
        if word == "pasado" and nxt == "manana":
            _take(out, "date", today + timedelta(days=2), raw, [i, i + 1], used)
            return
        if word in _TOMORROW:
            _take(out, "date", today + timedelta(days=1), raw, [i], used)
            return
        if word in _WEEKDAYS or (word.endswith("s") and word[:-1] in _WEEKDAYS and len(word) > 4):
            wanted = _WEEKDAYS.get(word, _WEEKDAYS.get(word[:-1]))
            ahead = (wanted - today.weekday()) % 7
            if ahead == 0 and not (out.at and now and out.at > now):
                ahead = 7  # "Tuesday" on a Tuesday is next week's, unless a time still to come today is given
            _take(out, "date", today + timedelta(days=ahead), raw, [i], used)
            return
        m = _SLASH.match(word)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            month, day = (b, a) if language == "es" else (a, b)
            found = _next_date(today, month, day, m.group(3))
            if found:
                _take(out, "date", found, raw, [i], used)
                return
        if word in _MONTHS:
            found = _month_day(plain, i, today, used)
            if found:
                day_found, span = found
                _take(out, "date", day_found, raw, span, used)
                return


def _month_day(plain, i, today, used):
    """"5 de diciembre", "Dec 5", "Dec 5th", "5 Dec": the month word at i with a day beside it
    (not a number already read as the time)."""
    month = _MONTHS[plain[i]]

    def day_at(j):
        m = _ORDINAL.match(plain[j]) if 0 <= j < len(plain) and j not in used else None
        return _next_date(today, month, int(m.group(1))) if m else None

    if i >= 2 and plain[i - 1] == "de" and (found := day_at(i - 2)):
        return found, [i - 2, i - 1, i]
    if found := day_at(i + 1):
        return found, [i, i + 1]
    if found := day_at(i - 1):
        return found, [i - 1, i]
    return None


def _next_date(today: date, month: int, day: int, year: str | None = None) -> date | None:
    """That month and day on or after today (this year or next), or in the year given."""
    try:
        if year:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        found = date(today.year, month, day)
        return found if found >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def _take(out: Parsed, what: str, value, raw, span, used) -> None:
    span = [j for j in span if j < len(raw)]
    used.update(span)
    out.words[what] = " ".join(raw[j] for j in span)
    if what == "date":
        out.day = value
    else:
        out.at = value


def _find_category(plain, raw, out) -> None:
    for table in (_STRONG, _WEAK):
        best = None
        for category, words in table.items():
            for phrase in words:
                parts = phrase.split()
                for i in range(len(plain) - len(parts) + 1):
                    if plain[i:i + len(parts)] == parts and (best is None or i < best[0]):
                        best = (i, category, " ".join(raw[i:i + len(parts)]))
                        break
        if best:
            out.category, out.words["category"] = best[1], best[2]
            return


# Requests ------------------------------------------------------------------------------------

def clean(text: str) -> str:
    """What we keep of a text: no control characters but line breaks (PostgreSQL refuses NUL)."""
    text = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", text or "")
    return text.strip()[:MAX_BODY]


def waits_for_coordinator(user: User) -> bool:
    """A resident's request, or that of anyone who cannot log in, is completed by a coordinator."""
    return user.role == "resident" or not user.can_log_in


def create(user: User, words: str) -> TextRequest:
    """Store what followed NEED as a request: a draft for the member to check, or queued for the
    coordinators. In the caller's transaction (app/services/text_commands.py commits)."""
    body = clean(words)
    now = utc_to_local(utcnow())
    parsed = parse(body, now.date(), now.time().replace(tzinfo=None), user.language)
    row = TextRequest(user_id=user.id, body=body, category=parsed.category, starts_at=parsed.starts_at,
                      parsed=parsed.as_dict(), status="queued" if waits_for_coordinator(user) else "draft")
    db.session.add(row)
    db.session.flush()
    return row


def get_for_posting(actor: User, request_id: int, owner: User | None) -> TextRequest:
    """The request a new-post form is prefilled from: the member's own draft, or (for a coordinator
    posting for `owner`) that resident's queued request. NotAllowed for anything else (a 404);
    Conflict when it was already posted or dismissed."""
    row = db.session.get(TextRequest, request_id)
    if row is None:
        raise NotAllowed(_("No such request."))
    if owner is None:
        if row.user_id != actor.id:
            raise NotAllowed(_("No such request."))
    elif not (actor.is_coordinator and row.user_id == owner.id):
        raise NotAllowed(_("No such request."))
    if row.status == "posted":
        raise Conflict(_("This request is already posted."))
    if row.status == "dismissed":
        raise Conflict(_("A coordinator has closed this request."))
    return row


def mark_posted(actor: User, request_id: int, post_id: int) -> bool:
    """After the post was saved: the request is done (once; a second post of it changes nothing)."""
    done = db.session.execute(update(TextRequest).where(TextRequest.id == request_id,
                                                        TextRequest.status.in_(("draft", "queued")))
                              .values(status="posted", post_id=post_id, handled_by_id=actor.id)
                              .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return done == 1


def queued() -> list[tuple[TextRequest, User]]:
    """The requests waiting for a coordinator, oldest first."""
    return list(db.session.execute(select(TextRequest, User).join(User, User.id == TextRequest.user_id)
                                   .where(TextRequest.status == "queued").order_by(TextRequest.created_at, TextRequest.id)
                                   .limit(200)).tuples())


def dismiss(actor: User, request_id: int) -> TextRequest:
    if not actor.is_coordinator:
        raise NotAllowed(_("Only coordinators can do that."))
    row = db.session.get(TextRequest, request_id)
    if row is None or row.status not in ("queued", "draft"):
        raise NotAllowed(_("No such request."))
    done = db.session.execute(update(TextRequest).where(TextRequest.id == row.id, TextRequest.status == row.status)
                              .values(status="dismissed", handled_by_id=actor.id)
                              .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict(_("This request changed a moment ago. Reload to see where it stands."))
    audit.record(actor, "text_request_dismiss", "user", row.user_id, request=row.id)
    db.session.commit()
    return row
