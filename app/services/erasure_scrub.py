"""The table-by-table part of deleting an account, generic over db.metadata.

`apply_rules` carries out personal_data.RULES; `scrub_linked` then follows every foreign key from
the person's row to the rows that hang off it (their posts, those posts' matches, the matches'
messages, ledger notes of their pledges...) and replaces their full name, email and phone wherever
they appear in text or JSON (each word of the name alone only in their own rows, `own_rows`);
`erase_addresses` clears any column named like an email address that holds theirs; `purge_outbox`
deletes the emails addressed to them and takes their details out of emails to others. Append-only
tables are read (to follow their keys) but never written: they hold ids and codes only.

All of it runs in the caller's transaction, through Core statements, after the ORM has flushed.
"""
import re
from collections import defaultdict

from sqlalchemy import JSON, Column, String, Table, delete, func, or_, select, update

from app.extensions import db
from app.models import OutboxEmail, User
from app.models.audit import _APPEND_ONLY
from app.services.personal_data import PSEUDONYM, REDACTED, RULES, Copy, Identifiers, scrub, tables

CHUNK = 500


def _chunks(ids) -> list[list]:
    ids = sorted(ids)
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _fits(column: Column, value):
    length = getattr(column.type, "length", None)
    return value[:length] if isinstance(value, str) and length else value


def apply_rules(user_id: int, pseudonym: str) -> dict[str, int]:
    """Each rule of personal_data.RULES for this person, on the tables that exist; rows touched per table."""
    t = tables()
    touched: dict[str, int] = defaultdict(int)
    for rule in RULES:
        table = t.get(rule.table)
        if table is None or any(name not in table.c for name in rule.values):
            continue  # a table (or column) this installation doesn't have
        try:
            where = rule.whose(t, user_id)
        except KeyError:  # the rule joins a table that doesn't exist here
            continue
        if rule.delete:
            touched[rule.table] += db.session.execute(delete(table).where(where)).rowcount or 0
            continue
        for name, value in rule.values.items():
            column = table.c[name]
            if value is REDACTED:
                stmt = update(table).where(where, column.is_not(None)).values({name: REDACTED})
            elif value is PSEUDONYM:
                stmt = update(table).where(where).values({name: pseudonym})
            elif isinstance(value, Copy):
                stmt = update(table).where(where).values({name: table.c[value.column]})
            else:
                stmt = update(table).where(where).values({name: value})
            touched[rule.table] = max(touched[rule.table], db.session.execute(stmt).rowcount or 0)
    return dict(touched)


def _single_pk(table: Table) -> Column | None:
    keys = list(table.primary_key.columns)
    return keys[0] if len(keys) == 1 else None


def linked_rows(user_id: int) -> dict[str, set]:
    """Every row that reaches the person's users row through foreign keys, child to parent, by
    table: their posts, the matches on those posts, the messages of those matches, and so on.
    Other people's users rows are never entered (a coordinator's residents are not theirs)."""
    t = tables()
    linked: dict[str, set] = {"users": {user_id}}
    frontier: dict[str, set] = {"users": {user_id}}
    while frontier:
        found: dict[str, set] = defaultdict(set)
        for table in t.values():
            pk = _single_pk(table)
            if table.name == "users" or pk is None:
                continue
            for fk in table.foreign_keys:
                parents = frontier.get(fk.column.table.name)
                if not parents or not fk.column.primary_key:
                    continue
                for chunk in _chunks(parents):
                    for (row_id,) in db.session.execute(select(pk).where(fk.parent.in_(chunk))):
                        if row_id not in linked.get(table.name, ()):
                            found[table.name].add(row_id)
        for name, ids in found.items():
            linked.setdefault(name, set()).update(ids)
        frontier = dict(found)
    return linked


def _text_columns(table: Table) -> list[Column]:
    return [c for c in table.columns if isinstance(c.type, (String, JSON)) and not c.primary_key and not c.foreign_keys]


def own_rows(user_id: int) -> dict[str, set]:
    """The rows that are the person's own (personal_data.RULES with `own`): their posts, what they
    wrote, their pledges... by table. Each word of their name is replaced in these; elsewhere
    only their full name, email and phone (a first name like "Will" is an everyday word)."""
    t = tables()
    own: dict[str, set] = defaultdict(set)
    for rule in RULES:
        table = t.get(rule.table)
        if table is None or rule.delete or not rule.own:
            continue
        pk = _single_pk(table)
        try:
            where = rule.whose(t, user_id)
        except KeyError:
            continue
        if pk is not None:
            own[rule.table].update(db.session.scalars(select(pk).where(where)))
    return dict(own)


def scrub_linked(linked: dict[str, set], ids: Identifiers, own: dict[str, set] | None = None) -> int:
    """Replace the person's name, email and phone in the text and JSON of every linked row (their own
    users row is handled by its rule): in `own` rows each word of the name, in the others the full
    name only. Returns how many rows changed."""
    pattern, own_pattern = ids.pattern, ids.own_pattern
    own = own or {}
    if own_pattern is None:
        return 0
    t = tables()
    changed = 0
    for name in set(linked) | set(own):
        table = t[name]
        pk, columns = _single_pk(table), _text_columns(table)
        if name == "users" or name in _APPEND_ONLY or pk is None or not columns:
            continue
        mine = own.get(name, set())
        for chunk in _chunks(linked.get(name, set()) | mine):
            for row in db.session.execute(select(pk, *columns).where(pk.in_(chunk))).all():
                using = own_pattern if row[0] in mine else pattern
                if using is None:
                    continue
                values = {}
                for column, value in zip(columns, row[1:]):
                    new = scrub(value, ids, using)
                    if new != value:
                        values[column.name] = _fits(column, new)
                if values:
                    db.session.execute(update(table).where(pk == row[0]).values(values))
                    changed += 1
    return changed


def _is_address_column(table: Table, column: Column) -> bool:
    return isinstance(column.type, String) and (column.name == "email" or column.name.endswith("_email")) \
        and table.name != "users"


def erase_addresses(ids: Identifiers) -> int:
    """Any column named like an email address (an invitation's, say) that holds theirs."""
    if not ids.email:
        return 0
    done = 0
    for table in tables().values():
        if table.name in _APPEND_ONLY:
            continue
        for column in table.columns:
            if _is_address_column(table, column):
                value = None if column.nullable else _fits(column, REDACTED)
                done += db.session.execute(update(table).where(func.lower(column) == ids.email)
                                           .values({column.name: value})).rowcount or 0
    return done


def _like(column, needle: str):
    escaped = re.sub(r"([\\%_])", r"\\\1", needle)
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def purge_outbox(ids: Identifiers) -> tuple[int, int]:
    """Delete the queued and sent emails addressed to the person, and the emails to anyone else that
    carry their details (their full name, email or phone: a match's contact card, which also holds
    their place, or a coordinator's notice about them). Emails that merely share a word with their
    name are left alone. Returns (deleted, 0); the second count is kept for the audit entry."""
    deleted = 0
    if ids.email:
        deleted = db.session.execute(delete(OutboxEmail).where(func.lower(OutboxEmail.to_addr) == ids.email)
                                     .execution_options(synchronize_session=False)).rowcount or 0
    pattern = ids.pattern
    conditions = [_like(column, needle) for needle in ids.needles()
                  for column in (OutboxEmail.subject, OutboxEmail.body_text, OutboxEmail.body_html)]
    if pattern is None or not conditions:
        return deleted, 0
    columns = (OutboxEmail.subject, OutboxEmail.body_text, OutboxEmail.body_html)
    carrying = [row.id for row in db.session.execute(select(OutboxEmail.id, *columns).where(or_(*conditions))).all()
                if any(scrub(value, ids, pattern) != value for value in row[1:])]
    if carrying:
        # The whole email goes: beside the name it may hold the person's address or pickup place.
        deleted += db.session.execute(delete(OutboxEmail).where(OutboxEmail.id.in_(carrying))
                                      .execution_options(synchronize_session=False)).rowcount or 0
    return deleted, 0


def release_contact_person(ids: Identifiers, user_id: int) -> int:
    """Members who named this person as their contact person would go on showing the person's
    email or phone on their own card: the contact person is cleared, and they are reached the way
    anyone is who named none (their email, else their phone, else their coordinator)."""
    needles = [n for n in (ids.email, ids.phone) if n]
    full_name = (ids.full_name or "").lower()
    conditions = [_like(User.contact_detail, n.lower()) for n in needles]
    if full_name:
        conditions.append(func.lower(User.contact_name) == full_name)
    if not conditions:
        return 0
    released = 0
    for other in db.session.scalars(select(User).where(User.id != user_id, or_(*conditions))):
        other.contact_method = "email" if other.email else "phone" if other.phone else "person"
        other.contact_name = other.contact_detail = None
        released += 1
    db.session.flush()
    return released
