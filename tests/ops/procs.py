"""Real worker and server processes for the operations tests, with their logs kept in files."""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def wait_for(check, timeout: float = 30, every: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Proc:
    """A child process in its own session (so a signal reaches all of it), logging to `log`."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        self._fh = open(log, "ab")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._fh, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.alive():
            os.killpg(self.proc.pid, sig)
        self.proc.wait(30)
        self._fh.close()

    def stop(self) -> int:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait(10)
        self._fh.close()
        return code

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def worker(env: dict, log: Path, threads: int = 2) -> Proc:
    return Proc([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "worker", "--threads", str(threads)], env, log)


def server(env: dict, log: Path, port: int) -> Proc:
    p = Proc([str(ROOT / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
             dict(env, PORT=str(port)), log)

    def up():
        if not p.alive():
            raise AssertionError("the server exited:\n" + p.output()[-3000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    wait_for(up, 60, 0.2, "the server to listen")
    return p
