"""gunicorn settings for Mutual Aid Exchange: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every value can be changed through the environment, so one file serves `make serve` on a laptop and
a deployment behind a reverse proxy.

- Workers: `WEB_CONCURRENCY`, else one per core (at least two) when rate limits live in Redis
  (`RATELIMIT_STORAGE_URI=redis://...`), else 1: in-memory rate limits are per process, so several
  processes without Redis would each allow the full limit. Not one per core plus one: the load
  test on two cores served 350-357 req/s with two processes and 307-310 with three (each request
  cost more CPU with one more process than cores, the worker and the database beside them).
- Threads: `GUNICORN_THREADS` (default 4, the gthread worker): requests waiting on the database or
  on SMTP do not hold a whole process.
- The app is loaded once before forking (copy-on-write memory shared by the workers); each worker
  then drops the database connections it inherited, so no two processes share a socket.
"""
import multiprocessing
import os

bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
_redis = os.environ.get("RATELIMIT_STORAGE_URI", "").startswith(("redis://", "rediss://", "redis+"))
# (At least two with Redis, so that one is always serving while the other is recycled.)
workers = int(os.environ.get("WEB_CONCURRENCY") or (max(2, multiprocessing.cpu_count()) if _redis else 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, so that a slow leak can never grow without bound; each one after
# its own number of requests (up to half as many again), since workers share the load evenly: with
# 5,000 and a jitter of 500, the load test saw both workers restart in the same second, with
# nobody serving meanwhile and every cache starting cold.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 2
preload_app = True
# Access log off by default (the app writes its own lines without personal data); "-" for stdout.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Behind a proxy, the forwarded headers are trusted only through the app's PROXY_FIX_* settings.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    """In the master, after the app is loaded and before any worker forks: the ZIP table (geo.py),
    read once here and shared by every worker instead of read by each on its first post."""
    from app.services import geo

    try:
        geo.preload()
    except Exception:  # noqa: BLE001 - never keep the site from starting; each worker reads it when needed
        server.log.exception("could not read the ZIP table before forking; each worker will read it itself")


def post_fork(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    from app.extensions import db

    app = worker.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    """Prometheus multiprocess mode: a dead worker's live gauges must not be summed any more."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
