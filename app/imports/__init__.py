"""CSV import (members, posts) and CSV export (posts, matches, members) for coordinators, and the
welcome link imported members choose their password with."""
from flask import Blueprint

bp = Blueprint("imports", __name__)

from app.imports import views  # noqa: E402,F401 - the routes
