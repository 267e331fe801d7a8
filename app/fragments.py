"""Pieces of public pages that many requests render alike, rendered once per process.

A browse page is twenty post cards and a filter form: about half of its CPU went into rendering
them, the same way for every visitor. Each piece is kept, per process, under a key that names
everything its HTML depends on, so a change makes a new key instead of an old answer:

- a post card: the language, the post's id and `updated_at` (every change to a post bumps it,
  through the ORM and through `update(Post)` alike), today's date in the community (the urgency
  label moves with it), the viewer's distance bucket, and the site's root;
- the browse filters: the language, what each filter field was given, whether the viewer has a
  place, and the root;
  never a form with errors.

Only public HTML goes in: nothing personal, no CSRF token, nothing a hold or a block decides
(those choose *which* posts a page lists, before any card is rendered). The cache is bounded (least
recently used out first) and never shared between processes.
"""
from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock

from flask import Flask, current_app, render_template, request
from markupsafe import Markup

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


def init_app(app: Flask) -> None:
    app.extensions["fragments"] = Fragments(app.config.get("FRAGMENT_CACHE_SIZE", 2000))
    app.add_template_global(post_card, "cached_post_card")
