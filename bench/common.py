"""Shared pieces of the benchmark scripts: processes, ports, load, percentiles, results.

Every benchmark measures its baseline in the same run on the same machine and reports the
ratio; absolute numbers are reported beside it. Nothing here asserts a time: the scripts
print and save results, docs/benchmarks.md records them.
"""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
PG_ENV = "INVOICE_BRIDGE_TEST_PG_URL"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> dict[str, Any]:
    cpu = ""
    with suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "postgresql_client": pg,
            "platform": platform.platform()}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Process:
    """A child process in its own process group (so gunicorn's workers stop with it)."""

    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    #: where its output goes (a file, never a pipe nobody reads: that blocks the child)
    log: Path | None = None
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        output = self.log.open("ab") if self.log else subprocess.DEVNULL
        try:
            self.popen = subprocess.Popen(self.args, env={**os.environ, **self.env},
                                          cwd=self.cwd, stdout=output, stderr=output,
                                          start_new_session=True)
        finally:
            if self.log:
                output.close()  # type: ignore[union-attr]
        return self

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:g}s")


@contextmanager
def running(*processes: Process) -> Iterator[None]:
    try:
        for process in processes:
            process.start()
        yield
    finally:
        for process in reversed(processes):
            process.stop()


def rss_kib(pid: int) -> int:
    """Resident set size of a process (and nothing else), from /proc."""
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) if match else 0


class RssSampler:
    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic() - start, rss_kib(self.pid)))
            except OSError:
                return
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def fresh_pg_url() -> str | None:
    """A new empty PostgreSQL database, or None when no server is configured."""
    admin = os.environ.get(PG_ENV)
    if not admin:
        return None
    from sqlalchemy import create_engine, text

    from bridge.config.sections import normalise_database_url

    url = normalise_database_url(admin)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


def new_database(name: str, directory: Path) -> str:
    """A new empty database: a SQLite file in ``directory``, or a fresh PostgreSQL database
    (exits with a hint when no server is configured)."""
    if name == "sqlite":
        return f"sqlite:///{directory / 'bridge.db'}"
    url = fresh_pg_url()
    if url is None:
        raise SystemExit(f"postgres: set {PG_ENV}")
    return url


def workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))


def write_config(directory: Path, *, db_url: str, upstream: str = "http://127.0.0.1:9",
                 secret: str = "bench_secret", rate_limit: float = 0,
                 changes: dict[str, Any] | None = None) -> Path:
    """``directory``/config.toml: one shop on an e-Cont.md simulator, JSON logs at WARNING,
    migrations applied on start; ``changes`` merged in (e.g. ``{"dispatch": {...}}``)."""
    from sandbox.config import bridge_config, merge
    from sandbox.config import write_config as write_toml
    from sandbox.econt import econt_upstream

    config = bridge_config(econt_upstream(upstream, rate_limit=rate_limit),
                           webhook_secret=secret, db_url=db_url, log_format="json")
    config = merge(config, {"database": {"auto_migrate": True}, **(changes or {})})
    return write_toml(directory / "config.toml", config)


def save(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    result = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": machine(), **result}
    path.write_text(json.dumps(result, indent=2, default=str))
    return path


def ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 3) if baseline else float("nan")
