"""The JSON API (/api/v1), its OpenAPI 3 description (/api/openapi.json) and docs page (/api/docs).

Built with flask-smorest, which works on the site's plain Flask app (APIFlask's blueprints need
APIFlask's own app class: on a plain Flask app they answer 500 and produce no description). The
description is generated from the views' marshmallow schemas (app/api/schemas.py).

The API authenticates by token itself (app/api/auth.py): its views are marked public so the
site's login redirect (app/web.py) lets the requests through to the token check.
"""
import flask_smorest


BLUEPRINTS = ("api_posts", "api_matches", "api_groups", "api_coord")
VERSION = "1.0"


class Api(flask_smorest.Api):
    def _register_error_handlers(self):
        """None on the app: the site's pages keep their HTML errors; each API blueprint has its
        own JSON ones (app/api/errors.py)."""


def init_app(app) -> None:
    from app.api import coord, docs, errors, groups, matches, posts

    api = Api(app, spec_kwargs={
        "title": "Mutual Aid Exchange API", "version": VERSION, "openapi_version": "3.0.3",
        "info": {"description": "Requests and offers of help, matches, group sessions and the coordinators' queue. "
                                "Send a personal access token (made on /account/tokens) as "
                                "`Authorization: Bearer <token>`. Cookies do not authenticate here."},
        "security": [{"token": []}],
    })
    api.spec.components.security_scheme("token", {"type": "http", "scheme": "bearer",
                                                  "description": "A personal access token from /account/tokens."})
    for module in (posts, matches, groups, coord):
        api.register_blueprint(module.bp)
    app.register_blueprint(docs.bp)
    for endpoint, view in app.view_functions.items():
        if endpoint.partition(".")[0] in BLUEPRINTS:
            view.is_public = True  # authenticated by token in the blueprint, never by cookie
    app.after_request(errors.jsonify_unrouted)
