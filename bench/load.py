"""Load test: the production server (gunicorn) under many logged-in clients at once (prints numbers).

  .venv/bin/python bench/load.py [--posts 100000] [--clients 16] [--seconds 30] [--database-url URL]
                                 [--workers N] [--threads N] [--reuse PATH]

Builds (or, with --reuse, keeps between runs) a database of N open posts, starts gunicorn with
deploy/gunicorn.conf.py on a free local port, logs in the clients, then runs for a fixed time each:

- the read mix: every client back to back, 70% newest needs, 15% category + distance filter,
  10% fuzzy search ("resmue"), 5% a post's page;
- the write mix: 12 clients browsing as above while 4 post needs through the real form (GET the
  form, then POST it with its CSRF token), and the posts are counted in the database afterwards.

A worker runs beside the server (`flask worker`, as `make serve` runs it) and computes the
proposals after each post. It prints requests per second, p50/p95/p99 per endpoint, errors (any
5xx or failed request), how soon the worker had proposed for every new need, and the resident
memory of each server process and of the worker, then stops everything it started. Only loopback
addresses are used; every loop is bounded by --seconds.
"""
import argparse
import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
PASSWORD = "load test password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_database(url: str, n_posts: int, clients: int) -> None:
    """The posts of bench/browse.py, plus one confirmed member per client with a known password."""
    from browse import build
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app
    from app.config import TestConfig
    from app.extensions import db
    from app.models import Post, User
    from app.services import accounts, planner
    from app.timeutil import utcnow

    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=url, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")
    app = create_app(config)
    with app.app_context():
        upgrade()
        if db.session.scalar(select(func.count()).select_from(Post)) < n_posts:
            t0 = time.perf_counter()
            build(n_posts, owners=200)
            print(f"built {n_posts:,} posts in {time.perf_counter() - t0:.0f} s")
        for i in range(clients):
            email = f"load{i}@example.org"
            if accounts.find_by_email(email) is None:
                db.session.add(User(name=f"Load {i}", email=email, role="member", zip_code="54016", town="Hudson",
                                    state="WI", lat=44.97, lon=-92.75, email_confirmed_at=utcnow(),
                                    password_hash=accounts.hash_password(PASSWORD)))
        db.session.commit()
        planner.after_bulk_load()  # as `flask seed-demo` does
        db.engine.dispose()


class Client:
    """One logged-in person: a keep-alive connection and a session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, text

    def login(self, email: str) -> None:
        _, page = self.request("GET", "/auth/login")
        status, _ = self.request("POST", "/auth/login", {"csrf_token": CSRF.search(page).group(1), "email": email,
                                                         "password": PASSWORD})
        assert status == 302, f"login failed for {email}: {status}"


READS = [(0.70, "browse newest", lambda rng, ids: "/browse?kind=need&sort=newest"),
         (0.15, "browse category + 10 mi", lambda rng, ids: "/browse?kind=need&category=rides&near=54016&within=10"),
         (0.10, "fuzzy search", lambda rng, ids: "/browse?kind=offer&q=resmue"),
         (0.05, "post detail", lambda rng, ids: f"/posts/{rng.choice(ids)}")]


def pick_read(rng):
    x, acc = rng.random(), 0.0
    for share, name, path in READS:
        acc += share
        if x < acc:
            return name, path
    return READS[-1][1], READS[-1][2]


def post_a_need(client: Client, rng, n: int, parts: dict) -> int:
    """GET the form, then POST it; `parts` gets each request's own time (ms)."""
    t0 = time.perf_counter()
    _, page = client.request("GET", "/posts/new?kind=need")
    t1 = time.perf_counter()
    parts["post a need: its form"] = (t1 - t0) * 1000
    day = (date.today() + timedelta(days=rng.randint(2, 10))).isoformat()
    status, _ = client.request("POST", "/posts/new?kind=need", {
        "csrf_token": CSRF.search(page).group(1), "category": "food", "title": f"Groceries for the week {n}",
        "details": "", "zip_code": "54016", "quantity": "1", "urgency": "1", "duration_min": "60",
        "windows-0-day": day, "windows-0-start": "10:00", "windows-0-end": "12:00"})
    parts["post a need: its POST"] = (time.perf_counter() - t1) * 1000
    return status


def run_mix(port: int, clients: int, seconds: float, writers: int, ids: list[int]) -> dict:
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    posted = [0]
    lock = threading.Lock()
    people = []
    for i in range(clients):
        c = Client(port)
        c.login(f"load{i}@example.org")
        people.append(c)
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(i: int):
        rng = random.Random(i)
        client = people[i]
        start.wait()
        n = 0
        while time.perf_counter() < deadline[0]:
            n += 1
            parts = {}
            if i < writers:
                name = "post a need"
                t0 = time.perf_counter()
                try:
                    status = post_a_need(client, rng, i * 100000 + n, parts)
                except OSError:
                    status = 599
                ok = status == 302
            else:
                name, make = pick_read(rng)
                t0 = time.perf_counter()
                try:
                    status, _ = client.request("GET", make(rng, ids))
                except OSError:
                    status = 599
                ok = status == 200
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                times[name].append(elapsed)
                for part, ms in parts.items():
                    times[part].append(ms)
                if not ok:
                    errors[f"{name} {status}"] += 1
                elif name == "post a need":
                    posted[0] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    t_start, client0 = time.perf_counter(), time.process_time()
    start.wait()
    for t in threads:
        t.join(seconds + 120)
    wall = time.perf_counter() - t_start
    return {"times": times, "errors": errors, "wall": wall, "posted": posted[0], "client_cpu": time.process_time() - client0}


def server_rss(pid: int) -> list[tuple[int, float]]:
    """(pid, MB) of the gunicorn master and its workers."""
    out = subprocess.run(["ps", "-o", "pid=,rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True)
    return [(int(p), int(r) / 1024) for p, r in (line.split() for line in out.stdout.splitlines())]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the server's processes so far (from /proc, in seconds), including
    workers that gunicorn has recycled since (their CPU is counted in the master's children's)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p, _ in server_rss(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            if p == pid:  # utime, stime, then cutime, cstime: the reaped workers'
                total += (int(fields[13]) + int(fields[14])) / tick
        except (OSError, IndexError):
            pass
    return total


def recycled(log_path: Path) -> int:
    """How many workers gunicorn has started so far, the first ones included (max_requests)."""
    try:
        return log_path.read_text().count("Booting worker with pid")
    except OSError:
        return 0


def report(title: str, result: dict, cpu: float, worker_cpu: float, restarts: int) -> None:
    total = sum(len(v) for name, v in result["times"].items() if name != "post a need")  # HTTP requests
    print(f"\n{title}: {total:,} requests in {result['wall']:.1f} s = {total / result['wall']:.0f} req/s; "
          f"server CPU {cpu:.1f} s ({cpu * 1000 / max(total, 1):.1f} ms a request); worker CPU {worker_cpu:.1f} s; "
          f"the load test's own CPU {result['client_cpu']:.1f} s (on the same {os.cpu_count()} cores); "
          f"web workers recycled (max_requests): {restarts}")
    print(f"  {'endpoint':<26} {'n':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, values in sorted(result["times"].items()):  # "post a need" is its form and its POST, both counted above
        values = sorted(values)
        q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
        print(f"  {name:<26} {len(values):>7} {q[49]:>8.0f} {q[94]:>8.0f} {q[98]:>8.0f}")
    errors = sum(result["errors"].values())
    print(f"  errors: {errors}" + (f" {dict(result['errors'])}" if errors else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--database-url")
    ap.add_argument("--reuse", help="a folder to keep the SQLite database in between runs")
    ap.add_argument("--workers", type=int)
    ap.add_argument("--threads", type=int)
    a = ap.parse_args()
    folder = Path(a.reuse or tempfile.mkdtemp(prefix="mae-load-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = a.database_url or f"sqlite:///{folder}/load.sqlite"
    build_database(url, a.posts, a.clients)

    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM posts WHERE status = 'open' ORDER BY id LIMIT 5000"))]
        before = conn.execute(text("SELECT count(*) FROM posts")).scalar()

    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, INSTANCE_PATH=str(folder), PORT=str(port), SECRET_KEY="load-test-secret",
               APP_ENV="development", MAIL_SERVER="", LOGIN_RATE_LIMIT="100000 per minute")
    if a.workers:
        env["WEB_CONCURRENCY"] = str(a.workers)
    if a.threads:
        env["GUNICORN_THREADS"] = str(a.threads)
    log = open(folder / "server.log", "w")
    server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "deploy/gunicorn.conf.py"), "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    # The worker beside it, as `make serve` runs it: it makes the proposals after each post (the
    # `propose` task) and keeps the engine's index. Only the outbox among the scheduled jobs, so
    # that an hourly or nightly job starting mid-run does not skew the numbers.
    worker_log = open(folder / "worker.log", "w")
    worker = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "worker"], cwd=ROOT,
                              env=dict(env, WORKER_JOBS="outbox"), stdout=worker_log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"the server did not start; see {folder / 'server.log'}")
        backend = url.split(":", 1)[0]
        print(f"gunicorn on :{port}, {backend}, {before:,} posts, {a.clients} clients, {a.seconds:.0f} s per mix; "
              f"processes: {', '.join(f'{mb:.0f} MB' for _, mb in server_rss(server.pid))}")
        Client(port).request("GET", "/browse")  # warm up the workers' caches
        cpu0, wcpu0, r0 = cpu_seconds(server.pid), cpu_seconds(worker.pid), recycled(folder / "server.log")
        reads = run_mix(port, a.clients, a.seconds, 0, ids)
        cpu1, wcpu1, r1 = cpu_seconds(server.pid), cpu_seconds(worker.pid), recycled(folder / "server.log")
        report("read mix", reads, cpu1 - cpu0, wcpu1 - wcpu0, r1 - r0)
        writes = run_mix(port, a.clients, a.seconds, a.writers, ids)
        report(f"write mix ({a.clients - a.writers} browsing, {a.writers} posting needs)", writes,
               cpu_seconds(server.pid) - cpu1, cpu_seconds(worker.pid) - wcpu1, recycled(folder / "server.log") - r1)
        ended = time.perf_counter()
        with engine.connect() as conn:
            saved = conn.execute(text("SELECT count(*) FROM posts")).scalar() - before
        print(f"  needs posted: {writes['posted']} answered 302, {saved} in the database")
        waiting = saved
        while time.perf_counter() - ended < 120:
            with engine.connect() as conn:
                waiting = conn.execute(text(f"SELECT count(*) FROM (SELECT id FROM posts ORDER BY id DESC LIMIT {saved}) "
                                            "AS new JOIN posts USING (id) WHERE proposed_at IS NULL")).scalar()
            if not waiting:
                break
            time.sleep(0.5)
        print(f"  proposals computed by the worker for {saved - waiting} of {saved} new needs, the last "
              f"{time.perf_counter() - ended:.1f} s after the mix ended; worker CPU {cpu_seconds(worker.pid):.1f} s")
        print("memory per process (MB): " + ", ".join(f"{mb:.0f}" for _, mb in server_rss(server.pid))
              + f"; worker {server_rss(worker.pid)[0][1]:.0f}")
    finally:
        stop(worker)
        worker_log.close()
        stop(server)
        log.close()
        engine.dispose()


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group (a graceful stop), SIGKILL after 30 s."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
