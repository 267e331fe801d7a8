"""Database ids typed by people (URLs, form fields, query strings) are checked here before any query.

Every primary key is an INTEGER: at most 2**31 - 1 on PostgreSQL (SQLite allows 2**63 - 1). A
larger number sent to the database is an error there, not "no such row", so anything outside
1..MAX_ID is answered as "does not exist" without asking the database.
"""
from app.extensions import db

MAX_ID = 2**31 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(value) -> int | None:
    """12, "12" -> 12; "", "0", "-1", "1e3", "²", "12345678901", True, None -> None.

    Only ASCII digits count: str.isdigit() also accepts "²", which int() refuses, and int()
    accepts other scripts' digits and "1_000", which no link of ours contains.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > _MAX_DIGITS or not (text.isascii() and text.isdigit()):
            return None
        number = int(text)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def get_by_id(model, value):
    """db.session.get for an id that came from outside: None when it cannot be one."""
    number = parse_id(value)
    return db.session.get(model, number) if number is not None else None
