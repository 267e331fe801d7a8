"""/healthz, /readyz and /metrics for proxies, monitors and Prometheus.

/healthz answers whoever asks. /readyz gives its status to anyone (a load balancer needs it) and
the details only to an admin or an address in OPS_ALLOWED_IPS; /metrics only to those.
"""
import ipaddress

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_login import current_user

from app.web import public

bp = Blueprint("ops", __name__)


def _trusted() -> bool:
    if getattr(current_user, "is_authenticated", False) and current_user.role == "admin":
        return True
    try:
        addr = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    for item in current_app.config["OPS_ALLOWED_IPS"].split(","):
        item = item.strip()
        if item:
            try:
                if addr in ipaddress.ip_network(item, strict=False):
                    return True
            except ValueError:
                continue
    return False


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@public
def healthz():
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
@public
def readyz():
    from app.ops.health import readiness

    status, report = readiness()
    body = report if _trusted() else {"status": report["status"]}
    return _no_store(jsonify(body)), status


@bp.get("/metrics")
@public
def metrics():
    if not _trusted():
        abort(403)
    from app.ops.metrics import render

    return _no_store(Response(render(), mimetype="text/plain; version=0.0.4"))
