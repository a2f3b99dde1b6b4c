"""`peer-support serve --workers N`: processes sharing one port and, through Redis, its rooms;
refused with the in-memory broker, which cannot share rooms."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.support import ROOT, Client, RedisServer, free_port, timeout, wait_until

ROOM = "anxiety"


class Supervisor:
    """`peer-support serve --workers N` on a free port, its output in a log file."""

    def __init__(self, count: int, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        argv = [sys.executable, "-m", "server", "serve", "--port", str(self.port)]
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*argv, "--workers", str(count)],
                env={**os.environ, **env},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def workers(self) -> list[int]:
        return _children(self.proc.pid)

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; its exit status."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout(40))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _gone(pids: list[int]) -> bool:
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _listening(port: int) -> int:
    """How many sockets listen on `port` (state 0A in /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
            count += 1
    return count


def _worker_of(client_port: int, server_port: int, workers: list[int]) -> int | None:
    """The worker holding the server side of the connection from `client_port`."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local = int(fields[1].rsplit(":", 1)[1], 16)
        remote = int(fields[2].rsplit(":", 1)[1], 16)
        if local == server_port and remote == client_port:
            inode = fields[9]
    if inode is None:
        return None
    for pid in workers:
        fds = Path(f"/proc/{pid}/fd")
        for fd in fds.iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue  # closed while we looked
    return None


@pytest.mark.redis
@pytest.mark.cluster
async def test_two_workers_share_the_port_and_its_rooms(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    env = {
        "SECRET_KEY": TEST_SECRET,
        "SECRET_KEY_FILE": str(tmp_path / "secret"),
        "REDIS_URL": redis_server.url,
        "REDIS_PREFIX": f"t{uuid.uuid4().hex[:10]}",
        "LEAVE_JITTER_SECONDS": "0",
    }
    supervisor = Supervisor(2, env, tmp_path / "serve.log")
    port = supervisor.port
    clients: list[Client] = []
    workers: list[int] = []
    try:
        wait_until(
            lambda: len(supervisor.workers()) == 2 and _listening(port) == 2,
            timeout(30),
            "two workers listening on the one port",
        )
        workers = supervisor.workers()
        # The kernel spreads connections by a hash of their addresses: open clients until one
        # sits on each worker (40 tries: one worker taking them all is a 2**-39 chance).
        by_worker: dict[int, Client] = {}
        for _ in range(40):
            client = await Client.connect(f"ws://127.0.0.1:{port}/ws")
            clients.append(client)
            client_port = client.ws.local_address[1]
            owner = _worker_of(client_port, port, workers)
            assert owner is not None, "no worker holds the accepted connection"
            by_worker.setdefault(owner, client)
            if len(by_worker) == 2:
                break
        assert len(by_worker) == 2, f"every connection went to one worker: {by_worker}"
        one, other = by_worker.values()
        for client in (one, other):
            await client.hello()
            await client.enter(ROOM)
        await one.say(ROOM, "hello from the first worker")
        await other.expect("message", text="hello from the first worker")
        await other.say(ROOM, "and back from the second")
        await one.expect("message", text="and back from the second")
    finally:
        for client in clients:
            await client.close()
        code = supervisor.stop()
    assert code == 0, supervisor.log()
    assert _gone(workers), "a worker outlived its supervisor"


@pytest.mark.parametrize(
    ("workers", "needle"),
    [("2", "--workers needs REDIS_URL"), ("0", "--workers must be at least 1")],
)
def test_workers_are_refused_without_redis(workers: str, needle: str, tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "SECRET_KEY_FILE": str(tmp_path / "k")}
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--port", str(free_port()), "--workers", workers],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert needle in result.stderr and "configuration error" in result.stderr
