"""A real workbench in a subprocess on localhost, for the tests and the load check.

:class:`LocalServer` runs ``freight serve`` (``python -m freight.cli serve``) on a free
localhost port in its own process group, waits until it answers, and stops it -- politely
(:meth:`stop`) or as a crash would (:meth:`kill`: SIGKILL to the whole group, the Dask
workers included). :class:`Browser`-less :class:`Visitor` logs in with ``httpx`` and
submits forms with their CSRF token, as a browser would.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def freight_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "freight.cli", *args]


def add_user(data_dir: Path, name: str, password: str, role: str, db: str | None = None) -> None:
    """``freight users add`` as an operator would run it on the server."""
    cmd = freight_command("users", "add", name, "--role", role, "--password-stdin",
                          "--data-dir", str(data_dir))  # fmt: skip
    if db:
        cmd += ["--db", db]
    subprocess.run(cmd, input=password + "\n", text=True, check=True, capture_output=True)


def add_users(data_dir: Path, users: dict[str, str], password: str, db: str | None = None) -> None:
    """Add users {name: role} with one password straight through the database layer (what
    ``freight users add`` does, without a process per user)."""
    from workbench import auth
    from workbench.db import default_url, make_engine, migrate, session_factory

    Path(data_dir).mkdir(parents=True, exist_ok=True)
    engine = make_engine(db or default_url(Path(data_dir).absolute()))
    try:
        migrate(engine)
        with session_factory(engine)() as s, s.begin():
            for name, role in users.items():
                auth.add_user(s, name, password, role, by="(test)")
    finally:
        engine.dispose()


class LocalServer:
    """``freight serve`` on 127.0.0.1 in a subprocess (its own process group)."""

    def __init__(self, data_dir: Path, *, db: str | None = None, workers: int = 1,
                 log: Path | None = None) -> None:  # fmt: skip
        self.data_dir = Path(data_dir)
        self.db = db
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or self.data_dir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 90.0) -> LocalServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = freight_command("serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
                              "--workers", str(self.workers), "--log-level", "warning")  # fmt: skip
        if self.db:
            cmd += ["--db", self.db]
        out = self.log.open("ab")
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=dict(os.environ))  # fmt: skip
        out.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"freight serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.kill()
        raise RuntimeError(f"freight serve did not answer: {self.log.read_text()[-3000:]}")

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM (uvicorn shuts the app down: the Dask cluster closes); SIGKILL after
        ``timeout_s``."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reap_group()

    def kill(self) -> None:
        """What a crash or a power cut does: SIGKILL to the server and its workers."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self._reap_group()

    def _reap_group(self) -> None:
        """Wait (briefly) for the group's other processes -- the Dask workers -- to go."""
        assert self.proc is not None
        for _ in range(50):
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class Visitor:
    """A logged-in user over HTTP (cookies kept; forms sent with their CSRF token)."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.http = httpx.Client(base_url=url, follow_redirects=True, timeout=120)
        page = self.http.get("/login")
        r = self.http.post("/login", data={"username": username, "password": password,
                                           "csrf": csrf_of(page.text), "next": "/"})  # fmt: skip
        if r.status_code != 200 or "/login" in str(r.url):
            raise RuntimeError(f"login of {username} failed: {r.status_code}")
        self.csrf = csrf_of(r.text)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return self.http.post(path, data={"csrf": self.csrf, **(data or {})}, **kw)

    def scenario_id(self, slug: str) -> int:
        m = re.search(rf'href="/scenarios/(\d+)" class="scenario-link" data-slug="{slug}"',
                      self.get("/").text)  # fmt: skip
        if not m:
            raise LookupError(slug)
        return int(m.group(1))

    def run(self, scenario_id: int) -> int:
        r = self.post(f"/scenarios/{scenario_id}/run")
        r.raise_for_status()
        return int(str(r.url).rstrip("/").rsplit("/", 1)[1])

    def status(self, job_id: int) -> tuple[str, int]:
        """A job's status and its progress steps so far."""
        text = self.get(f"/jobs/{job_id}/progress").text
        m = re.search(r'data-status="(\w+)"', text)
        return (m.group(1) if m else "?"), text.count("<li class=")

    def wait(self, job_id: int, *, until: tuple[str, ...] = ("done", "failed", "cancelled",
             "interrupted"), timeout_s: float = 240.0) -> str:  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status, _ = self.status(job_id)
            if status in until:
                return status
            time.sleep(0.3)
        raise TimeoutError(f"job {job_id} still {status} after {timeout_s:.0f} s")

    def close(self) -> None:
        self.http.close()


def csrf_of(html: str) -> str:
    m = _CSRF.search(html)
    if not m:
        raise LookupError("no CSRF token in the page")
    return m.group(1)
