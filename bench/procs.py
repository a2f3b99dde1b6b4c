"""Processes of a bench run: redis-server, the servers under test, the load generators.

Servers are pinned to one set of cores and generators (with Redis) to another when `taskset`
exists and the machine has at least two cores, so a busy generator never takes the server's CPU.
CPU time and memory are read from /proc, so every figure covers the whole process.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bench.engineio import EIO_PATH
from rooms.catalog import MAX_CAPACITY

__all__ = [
    "Cores",
    "GeneratorProcess",
    "Proc",
    "RedisProcess",
    "ServerSpec",
    "free_port",
    "load_env",
    "raise_fd_limit",
    "rooms_file",
    "socketio_missing",
    "wait_port",
]

ROOT = Path(__file__).resolve().parent.parent
SOCKETIO_DIR = ROOT / "bench" / "socketio"
_TICK = os.sysconf("SC_CLK_TCK")


def socketio_missing(directory: Path = SOCKETIO_DIR) -> str | None:
    """Why the Socket.IO reference cannot run here (None when it can): no `node`, or its npm
    dependencies not installed (or older than the lockfile; `make bench` runs `npm ci`)."""
    if shutil.which("node") is None:
        return "node not found (install Node.js 18 or later and npm)"
    installed = directory / "node_modules" / ".package-lock.json"  # written by npm ci
    lock = directory / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        return f"its npm dependencies are not installed (npm ci --prefix {directory})"
    return None


def raise_fd_limit(needed: int) -> int:
    """Raise this process's open-file limit (inherited by every child) to at least `needed`
    where allowed; the limit now in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    with contextlib.suppress(ValueError, OSError):  # a hard limit above the old one needs root
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, max(hard, needed)))
        return needed
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {seconds:.0f} s")


def load_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and lines starting with # are skipped."""
    env: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{path}:{number}: expected KEY=VALUE")
        env[key.strip()] = value.strip()
    return env


def rooms_file(directory: Path, count: int) -> Path:
    """A catalogue of `count` plain bench rooms (no facilitator needed, anyone may post), each
    as large as a room may be: a scenario's members (and its slow readers) all get in."""
    lines = ['[defaults]\ntimezone = "UTC"\nrules = ["Be kind."]\n']
    for i in range(count):
        lines.append(
            f'[[rooms]]\nid = "bench-{i:04d}"\nname = "Bench room {i}"\n'
            'category = "Bench"\ndescription = "A room for load tests."\n'
            f"capacity = {MAX_CAPACITY}\n"
        )
    path = directory / "bench_rooms.toml"
    path.write_text("\n".join(lines))
    return path


@dataclass(frozen=True)
class Cores:
    """Where servers and generators run; empty strings mean unpinned."""

    server: str
    generator: str

    @classmethod
    def detect(cls, server: str | None = None, generator: str | None = None) -> Cores:
        n = os.cpu_count() or 1
        if shutil.which("taskset") is None or n < 2:
            return cls("", "")
        return cls(
            server if server is not None else "0",
            generator if generator is not None else ",".join(map(str, range(1, n))),
        )

    def prefix(self, cpus: str) -> list[str]:
        return ["taskset", "-c", cpus] if cpus else []


class Proc:
    """A child process with CPU and memory read from /proc."""

    def __init__(self, argv: list[str], env: Mapping[str, str] | None, log: Path) -> None:
        self.log = log
        self._log_file = log.open("ab")
        self.popen: subprocess.Popen[bytes] = subprocess.Popen(
            argv,
            env=dict(env) if env is not None else None,
            cwd=ROOT,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log_file.close()

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class RedisProcess(Proc):
    """A redis-server of the bench's own on a free loopback port, keeping nothing on disk."""

    def __init__(self, workdir: Path, cores: Cores) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        argv = [
            *cores.prefix(cores.generator),
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--maxclients",
            "20000",
        ]
        super().__init__(argv, None, workdir / "redis.log")
        wait_port(self.port, self.popen)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        import redis

        client = redis.Redis(port=self.port)
        try:
            client.flushall()
        finally:
            client.close()


@dataclass(frozen=True)
class ServerSpec:
    """How to start one kind of server under test on a port, and how clients reach it."""

    name: str
    module: str  # `python -m module`, or for node the script's path under the repository
    product: bool
    node: bool = False
    proto: str = "psc"  # the load generator's wire format: "psc" (the contract) or "sio"

    def argv(self, port: int, redis_url: str) -> list[str]:
        if self.product:
            return [sys.executable, "-m", self.module, "serve", "--port", str(port)]
        if self.node:
            script = str(ROOT / self.module)
            return ["node", script, "--port", str(port), "--redis", redis_url]
        return [sys.executable, "-m", self.module, "--port", str(port), "--redis", redis_url]

    def url(self, port: int) -> str:
        path = EIO_PATH if self.proto == "sio" else "/ws"
        return f"ws://127.0.0.1:{port}{path}"

    def start(
        self, cores: Cores, env: Mapping[str, str], redis_url: str, workdir: Path, tag: str
    ) -> tuple[Proc, int]:
        port = free_port()
        full_env = {**os.environ, **env, "REDIS_URL": redis_url}
        proc = Proc(
            [*cores.prefix(cores.server), *self.argv(port, redis_url)],
            full_env,
            workdir / f"{self.name}-{tag}-{port}.log",
        )
        try:
            wait_port(port, proc.popen)
        except RuntimeError as exc:
            proc.stop()
            raise RuntimeError(f"{self.name} did not start: {exc}\n{proc.tail()}") from None
        return proc, port


class GeneratorProcess:
    """A `python -m bench.loadgen` process, driven by one JSON command a line."""

    def __init__(self, cores: Cores, workdir: Path, index: int) -> None:
        self.stderr: TextIO = (workdir / f"loadgen-{index}.err").open("a")
        self.popen = subprocess.Popen(
            [*cores.prefix(cores.generator), sys.executable, "-m", "bench.loadgen"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )

    def send(self, cmd: dict[str, Any]) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(json.dumps(cmd) + "\n")
        self.popen.stdin.flush()

    def answer(self, seconds: float = 180.0) -> dict[str, Any]:
        """The answer to the last command; a generator silent for `seconds` is a failure."""
        assert self.popen.stdout is not None
        ready, _, _ = select.select([self.popen.stdout], [], [], seconds)
        if not ready:
            self.popen.kill()
            raise RuntimeError(f"load generator did not answer within {seconds:.0f} s")
        line = self.popen.stdout.readline()
        if not line:
            raise RuntimeError(f"load generator exited ({self.popen.poll()}); see its .err log")
        result: dict[str, Any] = json.loads(line)
        return result

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                self.send({"cmd": "close"})
                self.answer()
                self.popen.wait(5)
            except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired):
                self.popen.kill()
                self.popen.wait()
        for pipe in (self.popen.stdin, self.popen.stdout):
            if pipe is not None:
                pipe.close()
        self.stderr.close()


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="psc-bench-"))
