"""Typo-tolerant, accent-blind search of open posts through an index in the database.

Every post's words (title and the first 300 characters of its details, accent-folded and
lower-cased) are rows of `post_terms`, written in the transaction that saves the post. A search:

1. folds the query the same way and corrects each word against the vocabulary (the distinct
   terms, cached in each process and topped up from new rows): a word keeps the terms within a
   typo or two of it (optimal string alignment, so a swap of two letters is one typo), and the
   terms it begins, or nearly begins ("resum" and "resmu" find "resume");
2. asks the database for the ids of the posts that have, for every query word, one of its terms,
   filtered by the browse conditions (open status among them), in order (best match first:
   exact words before corrected ones, then newest; or the browse sort), no more than the count
   cap needs; then reads the page's posts by key.

The matches come from the (term, post_id) index, and only they are joined to posts. The
vocabulary holds words only, never who wrote them, and results always come from the database
filtered by status: a stale vocabulary can miss a brand-new word's typos, never show a closed post.
"""
import bisect
import functools
import operator
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

from flask import current_app
from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import and_, case, delete, func, insert, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.selectable import Join

from app.extensions import db
from app.models import Post, PostTerm
from app.models.search import MAX_TERM

DETAILS_CHARS = 300  # of the details, only the start is searched (as before the index)
MAX_QUERY_WORDS = 8
MAX_CANDIDATES = 50  # terms kept per query word, best first
COUNT_CAP = 1000  # "1,000+ posts" (browse passes its own cap)
VOCABULARY_CHECK_SECONDS = 5.0  # how often a process asks whether other processes added words
VOCABULARY_RELOAD_SECONDS = 600.0  # a full reload drops words no post has any more
EXACT, PREFIX_PENALTY, TYPO_PENALTY = 100, 10, 15

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower-cased, accents dropped: "Currículum" -> "curriculum", "Niño" -> "nino"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The folded words of a text, in order; single letters are left out."""
    return [w[:MAX_TERM] for w in _WORD.findall(fold(text)) if len(w) > 1]


def terms_of(title: str, details: str | None) -> list[str]:
    """The distinct terms a post is found by, sorted."""
    return sorted(set(words(f"{title} {(details or '')[:DETAILS_CHARS]}")))


def set_terms(post: Post) -> None:
    """Rewrite a post's terms from its title and details (part of saving it: same transaction).

    Terms it keeps stay as they are; only the changed words are deleted and inserted.
    """
    new = terms_of(post.title, post.details)
    kept = {row.term: row for row in post.terms} if post.id is not None else {}
    post.terms = [kept.get(term) or PostTerm(term=term) for term in new]
    _vocabulary().note(new)  # this process finds its own new words at once


def reindex_open_posts(batch: int = 5000) -> int:
    """Rebuild post_terms from the open posts (for posts inserted in bulk, bypassing set_terms).
    Does not commit. Returns the number of terms written."""
    conn = db.session.connection()
    conn.execute(delete(PostTerm))
    p = Post.__table__
    rows = conn.execute(select(p.c.id, p.c.title, func.substr(p.c.details, 1, DETAILS_CHARS))
                        .where(p.c.status == "open").order_by(p.c.id)).all()
    written, pending = 0, []
    for post_id, title, details in rows:
        pending += [{"post_id": post_id, "term": term} for term in terms_of(title, details)]
        if len(pending) >= batch:
            conn.execute(insert(PostTerm), pending)
            written, pending = written + len(pending), []
    if pending:
        conn.execute(insert(PostTerm), pending)
        written += len(pending)
    return written


def prune_closed() -> None:
    """Drop the terms of posts that are no longer open (housekeeping: search ignores them anyway)."""
    closed = select(Post.id).where(Post.status != "open")
    db.session.execute(delete(PostTerm).where(PostTerm.post_id.in_(closed)))


# The vocabulary ------------------------------------------------------------------------------

class _Snapshot:
    """An immutable view of the vocabulary that searches read (threads share it): the terms sorted
    (a prefix is a range of them) and grouped by length (a word with k typos is at most k letters
    longer or shorter). A few new words make a new snapshot from the last one, not from scratch."""

    def __init__(self, terms=(), base: "_Snapshot | None" = None):
        known = base.known if base else set()
        new = sorted(set(terms) - known)
        self.known: set[str] = known | set(new)
        self.sorted: list[str] = sorted(base.sorted + new) if base else new  # two sorted runs: merged in C
        grouped: dict[int, list[str]] = {}
        for term in new:
            grouped.setdefault(len(term), []).append(term)
        self.by_length: dict[int, list[str]] = dict(base.by_length) if base else {}
        for n, group in grouped.items():
            self.by_length[n] = self.by_length.get(n, []) + group  # a new list: the base's stays as it was

    def with_words(self, terms) -> "_Snapshot":
        new = set(terms) - self.known
        return _Snapshot(new, base=self) if new else self

    def starting_with(self, head: str) -> list[str]:
        """The terms that begin with `head` (itself included), in order."""
        lo = bisect.bisect_left(self.sorted, head)
        return self.sorted[lo:bisect.bisect_left(self.sorted, head + "\U0010ffff", lo)]


class Vocabulary:
    """The distinct terms, per process. Topped up from rows newer than the last seen id when
    max(post_terms.id) moves (asked at most every VOCABULARY_CHECK_SECONDS); reloaded whole when
    the id went backwards (a wiped table) or after VOCABULARY_RELOAD_SECONDS."""

    def __init__(self):
        self._lock = threading.Lock()
        self._snapshot = _Snapshot()
        self._max_id: int | None = None
        self._loaded = False
        self._checked_at = self._reloaded_at = float("-inf")

    def current(self) -> _Snapshot:
        now = time.monotonic()
        if now - self._checked_at >= VOCABULARY_CHECK_SECONDS:
            with self._lock:
                if now - self._checked_at >= VOCABULARY_CHECK_SECONDS:
                    self._refresh(now)
        return self._snapshot

    def _refresh(self, now: float) -> None:
        conn = db.session.connection()
        t = PostTerm.__table__
        max_id = conn.execute(select(func.max(t.c.id))).scalar()
        if not self._loaded or max_id is None or (self._max_id is not None and max_id < self._max_id) \
                or (max_id != self._max_id and now - self._reloaded_at >= VOCABULARY_RELOAD_SECONDS):
            terms = conn.execute(select(t.c.term).distinct()).scalars() if max_id is not None else ()
            self._snapshot = _Snapshot(terms)
            self._reloaded_at, self._loaded = now, True
        elif max_id != self._max_id:
            since = self._max_id if self._max_id is not None else 0
            self._snapshot = self._snapshot.with_words(conn.execute(select(t.c.term).where(t.c.id > since).distinct()).scalars())
        self._max_id, self._checked_at = max_id, now

    def note(self, terms: list[str]) -> None:
        """Words this process just wrote (perhaps not committed yet: an extra word only ever
        yields a candidate that matches nothing)."""
        if not self._loaded:
            return  # the first search loads everything
        with self._lock:
            self._snapshot = self._snapshot.with_words(terms)


def _vocabulary() -> Vocabulary:
    """The app's vocabulary: one per process (and per app, so each test starts afresh)."""
    vocab = current_app.extensions.get("search_vocabulary")
    if vocab is None:
        vocab = current_app.extensions.setdefault("search_vocabulary", Vocabulary())
    return vocab


# Correcting the query ------------------------------------------------------------------------

def typos_allowed(length: int) -> int:
    """Up to 3 letters: exact (or the start of a word); 4 to 7: one typo; 8 or more: two."""
    return 0 if length <= 3 else 1 if length <= 7 else 2


def candidates(word: str, vocab: _Snapshot) -> dict[str, int]:
    """The terms a query word may stand for, each with a score: 100 the word itself, less for
    each typo (TYPO_PENALTY) and for being only the start of the term (PREFIX_PENALTY).

    Whole words within the typos allowed; longer words it begins ("resum": "resume"); and longer
    words it begins with a typo ("resmu"), among those sharing its first two letters (comparing
    every head of every term would cost more than the rest of the search)."""
    length, k = len(word), typos_allowed(len(word))
    found: dict[str, int] = {word: EXACT}  # even before the vocabulary knows it

    def keep(term: str, score: int) -> None:
        if score > found.get(term, 0):
            found[term] = score

    for n in range(length - k, length + k + 1) if k else ():
        for term, typos, _ in process.extract(word, vocab.by_length.get(n, ()), scorer=OSA.distance,
                                              score_cutoff=k, limit=None):
            keep(term, EXACT - TYPO_PENALTY * int(typos))
    if length >= 3:
        for term in vocab.starting_with(word):
            keep(term, EXACT - PREFIX_PENALTY)
        if k:
            near = [term for term in vocab.starting_with(word[:2]) if len(term) > length - k]
            for n in range(max(3, length - k), length + k + 1):
                terms_by_head: dict[str, list[str]] = {}
                for term in near:
                    if len(term) > n:
                        terms_by_head.setdefault(term[:n], []).append(term)
                for head, typos, _ in process.extract(word, list(terms_by_head), scorer=OSA.distance,
                                                      score_cutoff=k, limit=None):
                    for term in terms_by_head[head]:
                        keep(term, EXACT - PREFIX_PENALTY - TYPO_PENALTY * int(typos))
    best = sorted(found.items(), key=lambda item: (-item[1], len(item[0]), item[0]))[:MAX_CANDIDATES]
    return dict(best)


def query_words(q: str) -> list[str]:
    return list(dict.fromkeys(words(q)))[:MAX_QUERY_WORDS]


# The query -----------------------------------------------------------------------------------

@dataclass
class SearchPage:
    posts: list[Post]
    total: int  # at most the cap
    capped: bool  # there are more than `total`


def _matched(per_word: list[dict[str, int]], scored: bool):
    """post_id (and, if `scored`, the match score) of the posts that have a term of every query
    word, from the (term, post_id) index alone."""
    t = PostTerm.__table__
    every_term = sorted(set().union(*per_word))
    stmt = select(t.c.post_id.label("post_id")).where(t.c.term.in_(every_term)).group_by(t.c.post_id)
    if len(per_word) == 1 and not scored:
        return stmt.subquery("matched")
    # Per query word, the best score among its terms the post has (0: none of them).
    scores = [func.max(case({term: literal_column(str(int(score))) for term, score in terms.items()},
                            value=t.c.term, else_=literal_column("0"))) for terms in per_word]
    if scored:
        stmt = stmt.add_columns(functools.reduce(operator.add, scores).label("score"))
    if len(scores) > 1:
        stmt = stmt.having(and_(*(score > 0 for score in scores)))
    return stmt.subquery("matched")


class _MatchedFirst(Join):
    """`matched JOIN posts`, read in that order: the few matched ids, then each post by its key.
    SQLite otherwise likes to walk a posts index in the page's order and probe the matches, which
    reads every open post when a word is rare; CROSS JOIN is how SQLite is told the order (its
    planner never reorders one). Other databases get a plain JOIN and plan it by cost."""

    inherit_cache = True


@compiles(_MatchedFirst, "sqlite")
def _cross_join_on_sqlite(join, compiler, **kw):
    kw["asfrom"] = True
    return (f"{join.left._compiler_dispatch(compiler, **kw)} CROSS JOIN {join.right._compiler_dispatch(compiler, **kw)}"
            f" ON {join.onclause._compiler_dispatch(compiler, **kw)}")


def _sort_key(term, i: int):
    """An ORDER BY term as a labelled column and whether it is descending."""
    if isinstance(term, UnaryExpression) and term.modifier in (operators.desc_op, operators.asc_op):
        return term.element.label(f"k{i}"), term.modifier is operators.desc_op
    return term.label(f"k{i}"), False


def search(conds: list, q: str, order_by: list | None, offset: int, limit: int, cap: int = COUNT_CAP) -> SearchPage:
    """One page of the posts meeting `conds` whose words fit `q`: best match first, then newest,
    unless `order_by` is given, and how many there are (up to `cap`).

    Two SQL statements whatever the number of posts (and now and then the vocabulary's check):
    the ids in order, no more than the cap (or this page) needs, then the page's posts.
    """
    qwords = query_words(q)
    if not qwords:
        return SearchPage([], 0, False)
    vocab = _vocabulary().current()
    matched = _matched([candidates(word, vocab) for word in qwords], scored=not order_by)
    order = order_by or [matched.c.score.desc(), Post.created_at.desc(), Post.id.desc()]
    # The matching posts with their sort keys, then the order and the limit outside. OFFSET 0 is a
    # fence: planned together with a LIMIT, PostgreSQL may walk a posts index in the page's order
    # and compute the matches again for each post it passes (minutes at 100,000 posts when its
    # statistics are stale). Apart, the matches are read once, whatever the order.
    keys = [_sort_key(term, i) for i, term in enumerate(order)]
    found = (select(Post.id.label("id"), *(key for key, _ in keys))
             .select_from(_MatchedFirst(matched, Post.__table__, matched.c.post_id == Post.id))
             .where(*conds).offset(0).subquery("found"))
    wanted = max(cap, offset + limit) + 1
    ids = db.session.scalars(select(found.c.id).order_by(
        *(found.c[key.name].desc() if desc else found.c[key.name] for key, desc in keys)).limit(wanted)).all()
    page_ids = ids[offset:offset + limit]
    by_id = {p.id: p for p in db.session.scalars(select(Post).where(Post.id.in_(page_ids)))} if page_ids else {}
    return SearchPage([by_id[i] for i in page_ids if i in by_id], min(len(ids), cap), len(ids) > cap)
