"""Local services for tests and benchmarks: Redis, Celery workers, `triage serve`, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """redis-server on a loopback port, configured as the queue needs (AOF, noeviction).

    ``persistent=False``: as conversation memory needs, nothing ever written to disk.
    """

    def __init__(self, directory: Path, *, persistent: bool = True) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed: run `make test` (installs it)")
        self.directory = directory
        self.persistent = persistent
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Broker URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, reloading the AOF) and wait until it answers."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes" if self.persistent else "no",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def client(self) -> redis.Redis:
        """A client on this server."""
        return redis.Redis(port=self.port)


class CeleryWorker:
    """A real `celery worker` process on the cases queue (or the ``queues`` given)."""

    def __init__(self, env: dict[str, str], log: Path, queues: str = "cases") -> None:
        self.env = env
        self.log = log
        self.queues = queues
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the worker process."""
        env = os.environ | self.env | {"PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "triage.worker",
                "worker",
                "-Q",
                self.queues,
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL the worker: no warm shutdown, unacked tasks stay unacked."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), SIGKILL after 10 s."""
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None


class ServiceProcess:
    """A real `triage serve` process on a loopback port, settings from ``env``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until ``/healthz`` answers."""
        env = os.environ | self.env | {"PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "triage.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            try:
                return answers_ok(f"{self.url}/healthz")
            except OSError:
                return False

        wait_for(up, 60, what="triage serve to start")

    def stop(self) -> None:
        """SIGTERM, SIGKILL after 10 s."""
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if the process has not ended after ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def answers_ok(url: str) -> bool:
    """True when ``url`` answers 200."""
    with urllib.request.urlopen(url, timeout=2) as reply:
        return bool(reply.status == 200)


def wait_for(predicate, timeout: float, interval: float = 0.2, what: str = "condition") -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class PostgresServer:
    """A throwaway PostgreSQL cluster on a loopback port (Debian's server binaries)."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise RuntimeError("PostgreSQL server is not installed: run `make test` (installs it)")
        self.bin = found[-1].parent
        import tempfile

        self.directory = Path(tempfile.mkdtemp(prefix="triage-pg-"))
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
        if self.user:
            shutil.chown(self.directory, self.user)
        self._run("initdb", "-D", str(self.directory / "data"), "--auth=trust", "-U", "triage")

    def _run(self, tool: str, *args: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        subprocess.run(
            [*prefix, str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        """SQLAlchemy URL of this server."""
        return f"postgresql+psycopg://triage@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run(
            "pg_ctl",
            "-D",
            str(self.directory / "data"),
            "-w",
            "-l",
            str(self.directory / "log"),
            "-o",
            f"-p {self.port} -h 127.0.0.1 -k {self.directory}",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        """``immediate`` is a crash: no checkpoint, clients cut off."""
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server and delete its files."""
        try:
            self.stop("fast")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)
