"""Texts: the signed links texts carry, and what the text provider posts to us."""
from flask import Blueprint

bp = Blueprint("texts", __name__, url_prefix="/texts")

from app.texts import links  # noqa: E402,F401 - routes on bp
from app.texts import webhooks  # noqa: E402,F401
