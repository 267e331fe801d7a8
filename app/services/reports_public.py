"""Figures anyone may read (the impact page, the fund's public summary), with small counts
suppressed so that nobody can be picked out.

The rule: a cell under SMALL (0 included) is published as "fewer than 5" and counts as 0 in every
total; a total is the sum of the published cells only, and says "at least" when a cell it covers
was suppressed. So no total minus published cells ever gives back a suppressed cell. Months and
categories are always the same fixed list, so the presence of a row tells nothing either.
"""
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import func, select, union_all

from app.extensions import db
from app.i18n import day
from app.models import Match, Post
from app.models.posts import POST_CATEGORIES
from app.services.reports import bucket
from app.timeutil import local_to_utc, local_today

SMALL = 5
MONTHS = 12


@dataclass(frozen=True)
class Cell:
    value: int  # 0 when suppressed: nothing of the true count is kept
    suppressed: bool


@dataclass(frozen=True)
class Total:
    value: int  # the sum of the published cells
    at_least: bool  # a suppressed cell is under it


def cell(count: int, small: int = SMALL) -> Cell:
    return Cell(0, True) if count < small else Cell(int(count), False)


def total(cells) -> Total:
    cells = list(cells)
    return Total(sum(c.value for c in cells if not c.suppressed), any(c.suppressed for c in cells))


@dataclass
class Table:
    columns: list  # (key, label)
    rows: list  # (label, [Cell per column], row Total)
    column_totals: list  # Total per column
    grand_total: Total


def publish(row_labels: list, columns: list, counts: dict) -> Table:
    """counts[(row_index, column_key)] -> the true count; the Table holds only what may be shown."""
    cells = [[cell(counts.get((i, key), 0)) for key, _label in columns] for i in range(len(row_labels))]
    rows = [(label, row, total(row)) for label, row in zip(row_labels, cells)]
    column_totals = [total(row[j] for row in cells) for j in range(len(columns))]
    return Table(list(columns), rows, column_totals, total(c for row in cells for c in row))


def month_starts(today: date, months: int = MONTHS) -> list[date]:
    """The first days of the last `months` months, oldest first, this month last."""
    year, month = today.year, today.month
    out = []
    for _ in range(months):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def impact() -> Table:
    """Needs met per month (the month their first help was completed, or they were marked
    fulfilled) by category, over the last twelve months, newest month first."""
    starts = month_starts(local_today())
    bounds = [local_to_utc(first, time(0)) for first in starts]
    # Needs with a completed match: met when the first one was completed (if that is in the window).
    first_done = (select(Match.need_id.label("need_id"), func.min(Match.closed_at).label("at"))
                  .where(Match.status == "completed").group_by(Match.need_id)
                  .having(func.min(Match.closed_at) >= bounds[0]).subquery("first_done"))
    by_match = (select(Post.category.label("category"), first_done.c.at.label("at"))
                .join(Post, Post.id == first_done.c.need_id))
    # Needs marked fulfilled by their owner without any completed match: met when marked.
    by_hand = (select(Post.category.label("category"), Post.closed_at.label("at"))
               .where(Post.status == "fulfilled", Post.closed_at >= bounds[0],
                      ~select(Match.id).where(Match.status == "completed", Match.need_id == Post.id).exists()))
    met = union_all(by_match.where(Post.kind == "need"), by_hand.where(Post.kind == "need")).subquery("met")
    month = bucket(met.c.at, bounds)
    rows = db.session.execute(select(month, met.c.category, func.count())
                              .where(met.c.category.in_(tuple(POST_CATEGORIES)))
                              .group_by(month, met.c.category)).all()
    newest_first = list(range(len(starts)))[::-1]
    counts = {(newest_first.index(int(m)), category): int(n) for m, category, n in rows}
    labels = [day(starts[i], "%B %Y") for i in newest_first]
    return publish(labels, [(key, str(label)) for key, label in POST_CATEGORIES.items()], counts)


@dataclass
class PublishedFund:
    months: list  # (label, money in: Cell, money out: Cell)
    households_helped: Cell
    balance_at_least: int  # cents, rounded down to whole hundreds of dollars


def publish_fund(months: list, counts: list, households_helped: int, balance_cents: int) -> PublishedFund:
    """The fund's monthly money in and out, shown only for months with at least SMALL gifts (in)
    or SMALL households paid (out): one payment's amount would be one household's bill. The
    balance is rounded down to $100, so that it cannot be used to subtract the published months
    from and find a suppressed one to the cent."""
    rows = []
    for (label, money_in, money_out), (gifts, households) in zip(months, counts):
        rows.append((label, Cell(money_in, False) if gifts >= SMALL else Cell(0, True),
                     Cell(money_out, False) if households >= SMALL else Cell(0, True)))
    return PublishedFund(rows, cell(households_helped), max(balance_cents, 0) // 10_000 * 10_000)
