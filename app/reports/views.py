"""/reports (the coordinators' dashboard), /reports/funder (printable) and /reports/funder.csv,
and /impact (public, or members-only with the board). The paths are written out in full because
/impact sits outside /reports."""
from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from app.reports.forms import PeriodForm
from app.services import NotAllowed, ServiceError
from app.services import reports, reports_public
from app.services.reports_charts import bar_chart
from app.web import board, form_error, public, roles_required

bp = Blueprint("reports", __name__)


def _period_or_errors():
    """(form, Period or None): a bad date or order gets its message beside the field (422)."""
    form = PeriodForm(request.args)
    if not form.validate():
        return form, None
    try:
        return form, reports.period(form.start.data, form.end.data)
    except ServiceError as err:
        form_error(form, err)
        return form, None


def _charts(d: reports.Dashboard) -> dict:
    from flask_babel import gettext as _

    from app.i18n import day
    from app.services.fund import dollars

    weeks = [day(monday, "%b %-d") for monday in d.by_week]
    return {
        "needs": bar_chart(_("Needs posted and met, by week"), weeks,
                           [(_("Posted"), [c.posted for c in d.by_week.values()]),
                            (_("Met"), [c.met for c in d.by_week.values()])]),
        "groups": bar_chart(_("Group sessions: places taken and people present, by week"), weeks,
                            [(_("Places taken"), [t for _h, t, _p in d.sessions_by_week.values()]),
                             (_("Present"), [p for _h, _t, p in d.sessions_by_week.values()])]),
        "fund": bar_chart(_("Fund: money in and out, by week"), weeks,
                          [(_("In"), [i for i, _o in d.money_by_week.values()]),
                           (_("Out"), [o for _i, o in d.money_by_week.values()])],
                          value_text=lambda cents: dollars(int(cents))),
    }


def _render(template: str):
    form, p = _period_or_errors()
    if p is None:
        return render_template(template, form=form, d=None, charts=None), 422
    if not form.start.data:
        form.start.data = p.start
    if not form.end.data:
        form.end.data = p.end
    try:
        d = reports.dashboard(current_user, p)
    except NotAllowed:
        abort(403)
    return render_template(template, form=form, d=d, charts=_charts(d), **_formatters())


def _formatters() -> dict:
    """How the page writes each kind of figure; the CSV has the same numbers, plain."""
    from babel.numbers import format_decimal, format_percent
    from flask_babel import get_locale, gettext as _

    from app.i18n import day
    from app.models.posts import CATEGORIES

    locale = get_locale()

    def pct(value):
        return "—" if value is None else format_percent(value, "#,##0%", locale=locale)

    def hours(value):
        if value is None:
            return "—"
        return _("%(hours)s hours", hours=format_decimal(round(value, 1), "#,##0.0", locale=locale))

    return {"pct": pct, "hours": hours, "week_label": lambda monday: day(monday, "%b %-d"),
            "category_label": lambda key: str(CATEGORIES.get(key, key)), "town_label": lambda town: town}


@bp.route("/reports")
@roles_required("coordinator")
def dashboard():
    return _render("reports/dashboard.html")


@bp.route("/reports/funder")
@roles_required("coordinator")
def funder():
    return _render("reports/funder.html")


@bp.route("/reports/funder.csv")
@roles_required("coordinator")
def funder_csv():
    form, p = _period_or_errors()
    if p is None:
        return render_template("reports/funder.html", form=form, d=None, charts=None), 422
    try:
        body = reports.funder_csv(current_user, p)
    except NotAllowed:
        abort(403)
    name = f"funder-report-{p.start.isoformat()}-{p.end.isoformat()}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}", "Cache-Control": "no-store"})


@bp.route("/impact")
@public
@board
def impact():
    return render_template("reports/impact.html", table=reports_public.impact(), small=reports_public.SMALL)
