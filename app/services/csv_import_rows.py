"""Reading an uploaded CSV file and checking each of its lines, without touching the database.

`read_file` turns the bytes into (line number, {column: text}) pairs, or a problem with the whole
file: not UTF-8 (a byte-order mark is fine), not text at all, a line too long, a required column
missing. Comma or semicolon: whichever makes more of the header's columns ones we know.
`check_member` and `check_post` turn one line into normalised values and a list of problems,
each naming the column as the file spells it. Cross-line checks (the same email twice, an
account that already exists, a post's owner) are csv_import.py's.
"""
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import format_decimal, gettext as _

from app.forms import has_control_chars
from app.i18n import LANGUAGES
from app.models.posts import CATEGORIES, DESTINATION_KINDS, MONEY_CATEGORY, OFFER_FORMATS
from app.services import geo
from app.timeutil import utc_to_local, utcnow

MAX_ROWS = 10_000
MAX_CELL = 5000  # no cell of ours is longer (details: 2,000); a longer one is a broken line
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9+().\-\s]{7,30}$")

# Each column: its name in our template, and the other headers people use for it (compared in
# lower case, with spaces, dashes and underscores alike).
MEMBER_COLUMNS = {
    "name": ("name", "full name", "nombre"),
    "email": ("email", "e-mail", "email address", "correo"),
    "zip": ("zip", "zip code", "zipcode", "postal code", "zip_code"),
    "phone": ("phone", "phone number", "telephone", "tel", "teléfono"),
    "language": ("language", "lang", "idioma"),
}
MEMBER_REQUIRED = ("name", "email", "zip")
POST_COLUMNS = {
    "kind": ("kind", "type", "need or offer"),
    "category": ("category", "categoría"),
    "title": ("title", "título"),
    "details": ("details", "description"),
    "zip": ("zip", "zip code", "zipcode", "postal code", "zip_code"),
    "quantity": ("quantity", "qty", "capacity", "how many"),
    "owner_email": ("owner email", "owner", "email", "owner_email"),
    "start": ("start", "starts", "from", "start_at"),
    "end": ("end", "ends", "until", "end_at"),
    "duration": ("duration", "duration minutes", "minutes"),
    "urgency": ("urgency",),
    "destination": ("destination", "destination kind", "ride to"),
    "appointment": ("appointment", "appointment at"),
    "radius": ("radius", "radius miles", "miles", "travels"),
    "format": ("format", "offer format"),
}
POST_REQUIRED = ("kind", "category", "title", "zip", "owner_email")
COLUMNS = {"members": MEMBER_COLUMNS, "posts": POST_COLUMNS}
REQUIRED = {"members": MEMBER_REQUIRED, "posts": POST_REQUIRED}
LIMITS = {"name": 80, "email": 254, "title": 120, "details": 2000, "phone": 30}


def _norm_header(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", (text or "").strip().lower())


_ALIASES = {kind: {_norm_header(alias): name for name, aliases in cols.items() for alias in aliases}
            for kind, cols in COLUMNS.items()}


@dataclass
class ParsedFile:
    kind: str
    lines: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # our column name -> as the file spells it
    positions: dict[str, int] = field(default_factory=dict)  # our column name -> its place in a line
    problems: list[dict] = field(default_factory=list)  # problems with the whole file


def _problem(line: int, column: str, message: str) -> dict:
    return {"line": line, "column": column, "message": message}


def _decode(raw: bytes) -> str | None:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _header_fits(text: str, delimiter: str, kind: str) -> int:
    first = text.split("\n", 1)[0]
    try:
        cells = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error:
        return 0
    return sum(1 for c in cells if _norm_header(c) in _ALIASES[kind])


def read_file(raw: bytes, kind: str) -> ParsedFile:
    """The lines of an uploaded file (header on line 1), or its problems. Never raises for content."""
    parsed = ParsedFile(kind)
    if b"\x00" in raw[:4096] or raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        parsed.problems.append(_problem(1, "", _("This is not a CSV text file. In your spreadsheet, choose "
                                                  "\u201cSave as\u201d, then \u201cCSV UTF-8\u201d.")))
        return parsed
    text = _decode(raw)
    if text is None:
        parsed.problems.append(_problem(1, "", _("This file is not in UTF-8. In your spreadsheet, choose "
                                                  "\u201cSave as\u201d, then \u201cCSV UTF-8\u201d.")))
        return parsed
    if not text.strip():
        parsed.problems.append(_problem(1, "", _("This file is empty.")))
        return parsed
    delimiter = ";" if _header_fits(text, ";", kind) > _header_fits(text, ",", kind) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        _read_header(parsed, header)
        if parsed.problems:
            return parsed
        last = reader.line_num
        for cells in reader:
            first, last = last + 1, reader.line_num  # a quoted cell may hold line breaks: its first line counts
            if not any(c.strip() for c in cells):
                continue
            if len(parsed.lines) >= MAX_ROWS:
                parsed.problems.append(_problem(reader.line_num, "", _(
                    "This file has more than %(max)s lines. Split it into files of %(max)s lines or fewer.",
                    max=format_decimal(MAX_ROWS))))
                parsed.lines = []
                return parsed
            parsed.lines.append((first, _cells(parsed, cells)))
    except csv.Error:
        parsed.problems.append(_problem(reader.line_num or 1, "", _(
            "Line %(line)s could not be read: it is too long or has a quote that is never closed.",
            line=reader.line_num or 1)))
        parsed.lines = []
    return parsed


def _read_header(parsed: ParsedFile, header: list[str]) -> None:
    aliases = _ALIASES[parsed.kind]
    for i, cell in enumerate(header):
        name = aliases.get(_norm_header(cell))
        if name and name not in parsed.headers:
            parsed.headers[name] = cell.strip()[:60]
            parsed.positions[name] = i
    for name in REQUIRED[parsed.kind]:
        if name not in parsed.headers:
            parsed.problems.append(_problem(1, name, _("The column \u201c%(column)s\u201d is missing from the first line.",
                                                       column=name)))


def _cells(parsed: ParsedFile, cells: list[str]) -> dict[str, str]:
    return {name: (cells[i] if i < len(cells) else "") for name, i in parsed.positions.items()}


# One line ------------------------------------------------------------------------------------

class _Line:
    """Collects one line's values and problems, each problem under the column's name in the file."""

    def __init__(self, parsed: ParsedFile, cells: dict[str, str]):
        self.headers, self.cells = parsed.headers, cells
        self.values: dict = {}
        self.problems: list[dict] = []

    def text(self, name: str, required: bool = False, multiline: bool = False) -> str:
        value = (self.cells.get(name) or "").strip()
        if not multiline:
            value = " ".join(value.split())
        if required and not value:
            self.add(name, _("This is empty; it is needed."))
        elif len(value) > min(LIMITS.get(name, MAX_CELL), MAX_CELL):
            self.add(name, _("This is too long: at most %(max)s characters (it has %(count)s).",
                             max=format_decimal(LIMITS.get(name, MAX_CELL)), count=format_decimal(len(value))))
        elif has_control_chars(value, multiline=multiline):
            self.add(name, _("This contains characters we can't accept (such as a NUL byte)."))
        else:
            return value
        return ""

    def add(self, name: str, message: str) -> None:
        self.problems.append({"column": self.headers.get(name, name), "message": message})

    def problems_for(self, *names: str) -> bool:
        columns = {self.headers.get(n, n) for n in names}
        return any(p["column"] in columns for p in self.problems)


def check_member(parsed: ParsedFile, cells: dict[str, str]) -> tuple[dict, list[dict]]:
    line = _Line(parsed, cells)
    line.values["name"] = line.text("name", required=True)
    email = line.text("email", required=True).lower()
    if email and not EMAIL_RE.match(email):
        line.add("email", _("This is not an email address."))
        email = ""
    line.values["email"] = email
    line.values["zip"] = _zip(line)
    phone = line.text("phone")
    if phone and (not PHONE_RE.match(phone) or len(re.sub(r"\D", "", phone)) < 7):
        line.add("phone", _("This is not a phone number (digits, and + ( ) - if you like)."))
        phone = ""
    line.values["phone"] = phone
    language = line.text("language").lower()
    by_name = {label.lower(): code for code, label in LANGUAGES.items()} | {"spanish": "es", "espanol": "es"}
    if language and language not in LANGUAGES and language not in by_name:
        line.add("language", _("Use one of: %(codes)s.", codes=", ".join(LANGUAGES)))
    line.values["language"] = language if language in LANGUAGES else by_name.get(language, "")
    return line.values, line.problems


def _zip(line: _Line) -> str:
    zip_code = line.text("zip", required=True)
    if len(zip_code) == 4 and zip_code.isdigit():
        zip_code = "0" + zip_code  # a spreadsheet dropped the leading zero
    if zip_code and geo.lookup_zip(zip_code) is None:
        line.add("zip", _("Enter a 5-digit US ZIP code.") if not geo.ZIP_RE.match(zip_code)
                 else _("We don't know ZIP %(zip)s.", zip=zip_code))
        return ""
    return zip_code


_KINDS = {"need": "need", "request": "need", "offer": "offer", "necesidad": "need", "oferta": "offer"}
_URGENCY_WORDS = {"whenever": 0, "this week": 1, "within 48 hours": 2, "48 hours": 2, "today": 3}
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                 "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M%p")


def _choice(line: _Line, name: str, options: dict, message: str) -> str | None:
    """A code of `options` ({code: label}), written as the code or as its English label."""
    raw = line.text(name)
    if not raw:
        return None
    key = raw.lower().replace(" ", "_")
    if key in options:
        return key
    found = {str(label).lower(): code for code, label in options.items()}.get(raw.lower())
    if found is None:
        line.add(name, message)
    return found


def _when(line: _Line, name: str) -> datetime | None:
    raw = line.text(name)
    if not raw:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw.upper() if "%p" in fmt else raw, fmt)
        except ValueError:
            continue
    line.add(name, _("Write the date and time as 2025-03-14 09:30."))
    return None


def _whole(line: _Line, name: str, default: int, low: int, high: int) -> int:
    raw = line.text(name)
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not low <= int(raw) <= high:
        line.add(name, _("Enter a whole number from %(low)s to %(high)s.", low=low, high=format_decimal(high)))
        return default
    return int(raw)


def check_post(parsed: ParsedFile, cells: dict[str, str]) -> tuple[dict, list[dict]]:
    """A post's values (JSON-ready: times as ISO text, local to the community) and problems."""
    line = _Line(parsed, cells)
    v = line.values
    kind = line.text("kind", required=True).lower()
    v["kind"] = _KINDS.get(kind)
    if kind and v["kind"] is None:
        line.add("kind", _("Write \u201cneed\u201d or \u201coffer\u201d."))
    v["category"] = _category(line)
    v["title"] = line.text("title", required=True)
    v["details"] = line.text("details", multiline=True)
    v["zip"] = _zip(line)
    v["owner_email"] = line.text("owner_email", required=True).lower()
    if v["owner_email"] and not EMAIL_RE.match(v["owner_email"]):
        line.add("owner_email", _("This is not an email address."))
        v["owner_email"] = ""
    v["quantity"] = _whole(line, "quantity", 1, 1, 1000)
    v["duration"] = _whole(line, "duration", 60, 15, 24 * 60)
    start, end, appointment = _when(line, "start"), _when(line, "end"), _when(line, "appointment")
    _check_times(line, start, end, appointment)
    v["start"], v["end"] = (start.isoformat() if start else None), (end.isoformat() if end else None)
    v["appointment"] = appointment.isoformat() if appointment else None
    urgency = line.text("urgency").lower()
    v["urgency"] = int(urgency) if urgency in ("0", "1", "2", "3") else _URGENCY_WORDS.get(urgency, 0 if not urgency else None)
    if v["urgency"] is None:
        line.add("urgency", _("Use 0 (whenever) to 3 (today), or the words on the post form."))
        v["urgency"] = 0
    v["destination"] = _choice(line, "destination", DESTINATION_KINDS,
                               _("Use one of: %(kinds)s.", kinds=", ".join(DESTINATION_KINDS)))
    if v["kind"] == "need" and v["category"] == "rides" and not v["destination"] and not line.problems_for("destination"):
        line.add("destination", _("A ride needs the kind of place it is to: %(kinds)s.", kinds=", ".join(DESTINATION_KINDS)))
    v["radius"] = _radius(line)
    v["format"] = _choice(line, "format", OFFER_FORMATS, _("Use one of: %(formats)s.", formats=", ".join(OFFER_FORMATS)))
    return v, line.problems


def _category(line: _Line) -> str | None:
    raw = line.text("category", required=True)
    if not raw:
        return None
    by_label = {str(label).lower(): code for code, label in CATEGORIES.items()}
    code = raw.lower().replace(" ", "_") if raw.lower().replace(" ", "_") in CATEGORIES else by_label.get(raw.lower())
    if code == MONEY_CATEGORY:
        line.add("category", _("Money is asked for and given through the emergency fund, not as a post."))
        return None
    if code is None:
        line.add("category", _("We don't have the category \u201c%(category)s\u201d. Use one of: %(codes)s.",
                               category=raw[:40], codes=", ".join(c for c in CATEGORIES if c != MONEY_CATEGORY)))
    return code


def _radius(line: _Line) -> float:
    raw = line.text("radius")
    if not raw:
        return 10.0
    try:
        miles = float(raw)
    except ValueError:
        miles = -1.0
    if not 0.5 <= miles <= 100:  # also NaN
        line.add("radius", _("Enter how far they can travel, between 0.5 and 100 miles."))
        return 10.0
    return miles


def _check_times(line: _Line, start, end, appointment) -> None:
    if (start is None) != (end is None) and not line.problems_for("start", "end"):
        line.add("end" if end is None else "start", _("Give both the start and the end, or neither."))
    now = utc_to_local(utcnow()).replace(tzinfo=None)
    last = now + timedelta(days=731)
    if start and end:
        if end <= start:
            line.add("end", _("The end is before the start."))
        elif end <= now:
            line.add("end", _("This time has already passed."))
        elif start > last:
            line.add("start", _("Choose a date within the next two years."))
    if appointment and not now < appointment <= last:
        line.add("appointment", _("The appointment must be still to come, within the next two years."))

