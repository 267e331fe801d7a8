"""Pieces of public pages that many requests render alike, rendered once per process.

A browse page is twenty post cards and a filter form: about half of its CPU went into rendering
them, the same way for every visitor. Each piece is kept, per process, under a key that names
everything its HTML depends on, so a change makes a new key instead of an old answer:

- a post card: the language, the post's id and `updated_at` (every change to a post bumps it,
  through the ORM and through `update(Post)` alike), today's date in the community (the urgency
  label moves with it), the viewer's distance bucket, and the site's root;
- the browse filters: the language, what each filter field was given, whether the viewer has a
  place, and the root;
- the empty form of a new post (what a GET of /posts/new shows, for the query strings the site's
  own links make): the language, the root, the kind and the category asked for; the member's ZIP
  and the session's CSRF token are put in as it is served, so neither is ever kept;
  never a form with errors.

Only public HTML goes in: nothing personal, no CSRF token, nothing a hold or a block decides
(those choose *which* posts a page lists, before any card is rendered). The cache is bounded (least
recently used out first) and never shared between processes.
"""
from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from app import i18n
from app.timeutil import local_today


class Fragments:
    """A bounded, thread-safe map from a key to rendered HTML (least recently used out first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Hashable, render: Callable[[], str]) -> Markup:
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
                return html
        html = Markup(render())  # outside the lock: two threads may render the same piece once each
        with self._lock:
            self._items[key] = html
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _cache() -> Fragments:
    return current_app.extensions["fragments"]


def post_card(item) -> Markup:
    """One post's card (templates/_macros/forms.html `post_card`) for a browse item."""
    p = item.post
    distance = str(item.distance) if item.distance else None  # a lazy label: its words, not the object
    key = ("card", i18n.current(), request.script_root, p.id, p.updated_at, local_today(), distance)
    macro = current_app.jinja_env.get_template("_macros/forms.html").module.post_card
    return _cache().get(key, lambda: macro(item))


def browse_filters(form, has_origin: bool, active_filters: int, kind: str) -> Markup:
    """The folded filter form of /browse for this query string."""
    def render() -> str:
        return render_template("posts/_filters.html", form=form, has_origin=has_origin,
                               active_filters=active_filters, kind=kind)

    if form.errors:
        return Markup(render())
    # What the form shows is what its fields read, not the whole query string (an unknown argument
    # must not make a new entry; the page number is not in the form).
    typed = tuple((f.name, tuple(f.raw_data or ())) for f in form if f.name != "page")
    key = ("browse-filters", i18n.current(), request.script_root, typed, has_origin, active_filters, kind)
    return _cache().get(key, render)


# Stand-ins rendered in place of what differs per member, replaced as each page is served.
ZIP_SLOT = "zip-slot-5f0c2e"
CSRF_SLOT = "csrf-slot-5f0c2e"


def new_post_form(kind: str, category: str, zip_code: str | None, build: Callable) -> Markup | None:
    """The empty new-post form (templates/posts/_form.html) for this member: `build()` makes the
    form as a GET shows it, ZIP aside. Only for the query strings the site's own links make
    (`kind=need`, `kind=offer&category=skills`: the form's "Add another time" buttons post back to
    it), so that no link can make entries of its own or put text of its choosing into one; None
    otherwise, and the caller renders the page itself."""
    canonical = f"kind={kind}" + (f"&category={category}" if category else "")
    if request.query_string.decode("latin-1") != canonical or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None  # (without CSRF, as some tests run, the form has no token to stand in for)

    def render() -> str:
        form = build()
        form.zip_code.data = ZIP_SLOT
        form.csrf_token.current_token = CSRF_SLOT
        return render_template("posts/_form.html", form=form, kind=kind, editing=False)

    key = ("new-post-form", i18n.current(), request.script_root, kind, category)
    html = _cache().get(key, render)
    # generate_csrf: this session's token (made and kept in the session on its first form).
    return Markup(html.replace(CSRF_SLOT, escape(generate_csrf())).replace(ZIP_SLOT, escape(zip_code or "")))


def init_app(app: Flask) -> None:
    app.extensions["fragments"] = Fragments(app.config.get("FRAGMENT_CACHE_SIZE", 2000))
    app.add_template_global(post_card, "cached_post_card")
