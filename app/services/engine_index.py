"""The open posts as the engine's dataclasses, built once per process and kept current.

The engine's single-post call needs every open offer (or need) of a category within reach, and
converting thousands of rows into `matching.Offer` / `matching.Need` on every post cost most of
the call. Here each converted post is kept with the `updated_at` it was converted from: a call
reads only (id, updated_at) of the posts that qualify now (the same conditions, so status,
expiry, units left and safety holds are always as the database says), converts the few that
are new or changed since, and reuses the rest.

What a conversion depends on, and what keeps it current:
- the post's own columns: any UPDATE moves `updated_at` (ORM and Core alike);
- its dated windows or weekly slots: saving a post through posts.py moves `updated_at` too;
- the community's date (a need's urgency counts the days to its date): needs are converted again
  when the local date changes.
Blocks, bars and rules are not in here: `exclusions.prepare` applies them on every call.

One copy per process, shared by its threads (writes and pruning take the lock). Proposals after
a post run in the worker (app/jobs/queue.py, `propose`), so in production the web processes
fill theirs only with the offers near a need whose helper declined or did not show up (those
proposals are made in the request); entries for posts no longer open are dropped every
PRUNE_SECONDS.
"""
import threading
import time

from flask import current_app
from sqlalchemy import String, select, type_coerce

from app.extensions import db
from app.models import Post, PostWindow, WeeklySlot
from app.timeutil import local_today

PRUNE_SECONDS = 600
CHUNK = 500
# A post's change stamp as the database gives it (on SQLite the stored text: parsing 7,000 of them
# into datetimes on every call cost more than comparing them), read the same way in both places.
STAMP = type_coerce(Post.updated_at, String).label("stamp")


class PostIndex:
    def __init__(self, kind: str):
        self.kind = kind
        self.items: dict[int, tuple] = {}  # post id -> (updated_at, dataclass)
        self.day = None
        self.pruned_at = time.monotonic()
        self.converted = 0  # how many conversions this process has made (the tests and bench read it)
        self.lock = threading.Lock()

    def posts(self, conds: list, exclude: set[int], convert) -> list:
        """The open posts meeting `conds`, by id, as dataclasses; `convert(rows, extras)` turns
        full rows and their windows or slots into dataclasses."""
        self._keep_current()
        # Through the connection, not the ORM session: plain rows, without the ORM's per-row work
        # (and without its autoflush: anything pending goes to the database first).
        db.session.flush()
        current = db.session.connection().execute(select(Post.id, STAMP).where(*conds).order_by(Post.id)).all()
        stale = [post_id for post_id, stamp in current if (self.items.get(post_id) or (None,))[0] != stamp]
        for i in range(0, len(stale), CHUNK):
            self._convert(stale[i:i + CHUNK], convert)
        out = []
        for post_id, stamp in current:
            entry = self.items.get(post_id)
            # Changed between the two reads (it may no longer qualify): left out of this call; the
            # next one sees it as it is then.
            if post_id in exclude or entry is None or entry[0] != stamp:
                continue
            out.append(entry[1])
        return out

    def _convert(self, ids: list[int], convert) -> None:
        from app.services.match_engine import COLUMNS

        rows = db.session.connection().execute(select(STAMP, *COLUMNS).where(Post.id.in_(ids))).all()
        extras: dict[int, list] = {}
        if self.kind == "offer":
            query = select(WeeklySlot.post_id, WeeklySlot.day, WeeklySlot.start_min, WeeklySlot.end_min) \
                .where(WeeklySlot.post_id.in_(ids))
        else:
            query = select(PostWindow.post_id, PostWindow.start_at, PostWindow.end_at).where(PostWindow.post_id.in_(ids))
        for post_id, *rest in db.session.execute(query):
            extras.setdefault(post_id, []).append(tuple(rest))
        converted = {row.id: (row.stamp, convert(row, extras.get(row.id, []))) for row in rows}
        with self.lock:
            self.items.update(converted)
            self.converted += len(converted)

    def _keep_current(self) -> None:
        today = local_today()
        with self.lock:
            if self.kind == "need" and today != self.day:
                self.items.clear()
            self.day = today
            if time.monotonic() - self.pruned_at < PRUNE_SECONDS:
                return
            self.pruned_at = time.monotonic()
            still_open = set(db.session.scalars(select(Post.id).where(Post.kind == self.kind, Post.status == "open")))
            for post_id in [k for k in list(self.items) if k not in still_open]:
                self.items.pop(post_id, None)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


def vocabulary():
    """This app's reader of texts into words, kept between engine calls (its caches are bounded; matching/tfidf.py starts a fresh table of token codes past _CODES_KEPT)."""
    from matching.text import Vocabulary

    if "engine_vocabulary" not in current_app.extensions:
        current_app.extensions["engine_vocabulary"] = Vocabulary()
    return current_app.extensions["engine_vocabulary"]


def index(kind: str) -> PostIndex:
    """This app's index of open posts of `kind` (one per app: tests build several apps)."""
    indexes = current_app.extensions.setdefault("engine_index", {})
    if kind not in indexes:
        indexes[kind] = PostIndex(kind)
    return indexes[kind]
