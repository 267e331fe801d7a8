"""Work that should not keep a person waiting: run it once the response has gone out.

A view (or a service it calls) hands a callable to `later`; after the response has been sent, the
server's `close` runs each in a fresh app context, so a slow step (the matching engine after a post
is saved) costs the person nothing. Outside a request (commands, jobs, tests calling services) the
work runs at once. Everything handed here must be safe to lose: what it does is caught up by a job
(`flask match tick` proposes for posts left without proposals).
"""
import logging

from flask import Flask, current_app, g, has_request_context

from app.extensions import db

log = logging.getLogger(__name__)


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

            response.call_on_close(run)
        return response
