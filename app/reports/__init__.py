"""Reports: the coordinators' dashboard, the funder report (page and CSV), the public impact page."""
from app.reports.views import bp  # noqa: F401
