"""Work that should not keep a person waiting: run it once the response has gone out.

A view (or a service it calls) hands a callable to `later`; once the response has been sent, each
runs in a fresh app context on one background thread of the process, so a slow step (the matching
engine after a post is saved) holds neither the person's request nor the next one on the same
keep-alive connection (the redirect after posting). With `AFTER_RESPONSE_INLINE` (the tests) the
server's `close` runs them itself, so a test sees their effect when the response is done. Outside a request (commands, jobs, tests calling services) the
work runs at once. Everything handed here must be safe to lose: what it does is caught up by a job
(`flask match tick` proposes for posts left without proposals).
"""
import logging
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app, g, has_request_context

from app.extensions import db

log = logging.getLogger(__name__)
# Created on first use, so a gunicorn worker forked from a preloaded app gets its own thread.
_pool: ThreadPoolExecutor | None = None


def _background(fn) -> None:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="after-response")
    _pool.submit(fn)


def later(fn, *args) -> None:
    if has_request_context():
        g.setdefault("after_response", []).append((fn, args))
    else:
        fn(*args)


def init_app(app: Flask) -> None:
    @app.after_request
    def _schedule(response):
        work = g.pop("after_response", [])
        if work:
            flask_app = current_app._get_current_object()

            def run():
                for fn, args in work:
                    with flask_app.app_context():
                        try:
                            fn(*args)
                        except Exception:  # noqa: BLE001 - the response is gone; a job catches up
                            log.exception("work after the response failed: %s", getattr(fn, "__name__", fn))
                        finally:
                            db.session.remove()

            if flask_app.config.get("AFTER_RESPONSE_INLINE"):
                response.call_on_close(run)
            else:
                response.call_on_close(lambda: _background(run))
        return response
