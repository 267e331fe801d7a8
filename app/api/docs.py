"""The API's description (/api/openapi.json, generated from the code by flask-smorest) and its
docs page (/api/docs): Swagger UI from the swagger-ui-bundle package, served by the site itself
(the CSP allows no other origin), started by an external script (it allows no inline one).
Both are public: they describe the API and hold no one's data."""
from flask import Blueprint, abort, current_app, jsonify, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from app.web import public

bp = Blueprint("api_docs", __name__, url_prefix="/api")
ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js"}


@bp.route("/openapi.json")
@public
def openapi_json():
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    return jsonify(api.spec.to_dict())


@bp.route("/docs")
@public
def docs():
    return render_template("api/docs.html")


@bp.route("/docs/assets/<name>")
@public
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    return send_from_directory(str(swagger_ui_path), name, max_age=86400)
