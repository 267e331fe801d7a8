"""Thin views over app.services.csv_import, csv_import_run and csv_export."""
from datetime import timedelta

from flask import (Response, abort, current_app, flash, make_response, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import format_decimal, gettext as _
from flask_login import current_user

from app.auth.forms import ResetPasswordForm
from app.extensions import csrf, limiter
from app.imports import bp
from app.imports.forms import ActionForm, ExportForm, UploadForm
from app.services import FieldError, NotAllowed, ServiceError, csv_export, csv_import, csv_import_run
from app.services.csv_import_rows import MAX_ROWS, MEMBER_COLUMNS, POST_COLUMNS
from app.timeutil import local_today
from app.web import form_error, public, roles_required, run_action

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
TEMPLATES = {
    "members": (list(MEMBER_COLUMNS), ["Ada Lovelace", "ada@example.org", "54016", "651-555-0100", "en"]),
    "posts": (list(POST_COLUMNS), ["need", "rides", "Ride to the clinic", "Tuesday morning", "54016", "1",
                                   "ada@example.org", "", "", "60", "", "medical", "2030-03-14 09:30", "", ""]),
}


def _max_bytes() -> int:
    return current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def _export_form() -> ExportForm:
    today = local_today()
    return ExportForm(formdata=None, start=today - timedelta(days=30), end=today)


def _index(upload_form: UploadForm, export_form: ExportForm | None = None, status: int = 200):
    actor = current_user._get_current_object()
    return render_template("imports/index.html", form=upload_form, export_form=export_form or _export_form(),
                           jobs=csv_import.recent_jobs(actor), max_rows=format_decimal(MAX_ROWS),
                           max_mb=format_decimal(_max_bytes() / 1024 / 1024)), status


@bp.route("/coordinate/import")
@roles_required("coordinator")
def index():
    return _index(UploadForm(formdata=None))


@bp.route("/coordinate/import/template/<kind>.csv")
@roles_required("coordinator")
def template(kind: str):
    if kind not in TEMPLATES:
        abort(404)
    header, example = TEMPLATES[kind]
    body = ",".join(header) + "\r\n" + ",".join(example) + "\r\n"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={kind}.csv"})


def _read(storage, form: UploadForm, name: str) -> bytes | None:
    if storage is None or not getattr(storage, "filename", None):
        return None
    raw = storage.read(_max_bytes() + 1)
    if len(raw) > _max_bytes():
        form_error(form, FieldError(name, _("This file is larger than %(mb)s MB. Split it into smaller files.",
                                            mb=format_decimal(_max_bytes() / 1024 / 1024))))
    return raw or b" "  # an empty file is a problem the preview names, not "no file"


# The site-wide CSRF check reads the body under the 1 MB limit for every form; this one may be
# larger, so the form checks its own token (BaseForm) after the limit is raised for this request.
@bp.route("/coordinate/import/upload", methods=["POST"])
@csrf.exempt
@roles_required("coordinator")
def upload():
    limit = _max_bytes() + 64 * 1024  # the files, and the form around them
    if (request.content_length or 0) > limit:
        form = UploadForm(formdata=None)
        form_error(form, FieldError("members", _("These files are larger than %(mb)s MB. Split them into smaller files.",
                                                 mb=format_decimal(_max_bytes() / 1024 / 1024))))
        return _index(form, status=413)
    request.max_content_length = limit
    form = UploadForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _index(form, status=422)
    members, posts = _read(form.members.data, form, "members"), _read(form.posts.data, form, "posts")
    if form.members.errors or form.posts.errors:
        return _index(form, status=422)
    try:
        job = csv_import.preview(current_user._get_current_object(), members, posts)
    except FieldError as err:
        form_error(form, err)
        return _index(form, status=422)
    return redirect(url_for("imports.job", job_id=job.id))


def _job_or_404(job_id: int):
    try:
        return csv_import.job_for(current_user._get_current_object(), job_id)
    except NotAllowed:
        abort(404)


@bp.route("/coordinate/import/<int:job_id>")
@roles_required("coordinator")
def job(job_id: int):
    found = _job_or_404(job_id)
    problems, total = csv_import.problems_of(found)
    response = make_response(render_template("imports/job.html", job=found, problems=problems, total_problems=total,
                                             form=ActionForm(), upload_form=UploadForm(formdata=None)))
    if found.is_running:
        response.headers["Refresh"] = "3"  # polled without script: the CSP allows none inline
    return response


@bp.route("/coordinate/import/<int:job_id>/start", methods=["POST"])
@roles_required("coordinator")
def start(job_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    _job_or_404(job_id)
    url = url_for("imports.job", job_id=job_id)
    return run_action(lambda: csv_import.start(current_user._get_current_object(), job_id),
                      _("The import has started. This page shows how far it has got."), url, url)


@bp.route("/coordinate/import/<int:job_id>/discard", methods=["POST"])
@roles_required("coordinator")
def discard(job_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    _job_or_404(job_id)
    return run_action(lambda: csv_import.discard(current_user._get_current_object(), job_id),
                      _("The upload was discarded."), url_for("imports.index"), url_for("imports.job", job_id=job_id))


# Exports -------------------------------------------------------------------------------------------

def _attachment(lines, filename: str) -> Response:
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}", "Cache-Control": "no-store"})


def _export(make, name: str):
    form = ExportForm(request.args)
    if form.validate():
        try:
            lines = make(current_user._get_current_object(), form.start.data, form.end.data)
        except FieldError as err:
            form_error(form, err)
        else:
            return _attachment(lines, f"{name}-{form.start.data.isoformat()}-{form.end.data.isoformat()}.csv")
    return _index(UploadForm(formdata=None), form, status=422)


@bp.route("/coordinate/export/posts.csv")
@roles_required("coordinator")
def export_posts():
    return _export(csv_export.posts_csv, "posts")


@bp.route("/coordinate/export/matches.csv")
@roles_required("coordinator")
def export_matches():
    return _export(csv_export.matches_csv, "matches")


@bp.route("/admin/export/members.csv")
@roles_required("admin")
def export_members():
    return _attachment(csv_export.members_csv(current_user._get_current_object()), f"members-{local_today().isoformat()}.csv")


# The welcome link ------------------------------------------------------------------------------------

def _welcome_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


@bp.route("/welcome/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_welcome_limit, methods=["POST"])
def welcome(token: str):
    try:
        user = csv_import_run.user_for_welcome(token)
    except ServiceError as err:
        return render_template("auth/reset_invalid.html", message=err.message), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            csv_import_run.accept_welcome(token, form.password.data)
        except ServiceError as err:
            form_error(form, err)
        else:
            flash(_("Your password is set. You can log in now."), "success")
            return redirect(url_for("auth.login"))
    return render_template("imports/welcome.html", form=form, name=user.first_name), 422 if form.errors else 200
