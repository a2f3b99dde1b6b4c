"""`peer-support serve --workers N`: N serve processes on one port, and the process watching them.

Each worker is a whole `peer-support serve` with the same settings (the environment, which
`serve`'s flags were written into, is inherited) bound with SO_REUSEPORT: the kernel spreads new
connections over the workers' sockets by a hash of the addresses, and the workers share rooms
through Redis exactly as replicas behind a proxy do. The supervisor holds no socket. It passes
SIGTERM or SIGINT on to every worker once (each closes its sockets with 1012, as a single process
does), starts a new worker when one dies after it had started, and stops them all when one dies
while starting (a port in use or a configuration problem would only repeat).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from types import FrameType

__all__ = ["follow_parent", "reuse_port_socket", "supervise"]

STARTING_SECONDS = 10.0  # a worker that exits sooner failed to start
STOP_SECONDS = 20.0  # uvicorn's graceful shutdown (10 s) and the close grace, with room
POLL_SECONDS = 0.5

log = logging.getLogger("peer_support.workers")


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening address of this worker's own on the port the others share."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def follow_parent() -> None:
    """Stop this worker (SIGTERM to itself, a graceful stop) if its supervisor disappears
    without stopping it (killed with SIGKILL, say), so no worker is left serving unwatched."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def supervise(host: str, port: int, count: int) -> int:
    """Run `count` workers until SIGTERM or SIGINT; the exit status of `serve`."""
    if not hasattr(socket, "SO_REUSEPORT"):
        print("peer-support: configuration error: --workers needs SO_REUSEPORT", file=sys.stderr)
        return 2
    argv = [sys.executable, "-m", "server", "serve", "--host", host, "--port", str(port)]
    argv.append("--reuse-port")
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def start() -> tuple[subprocess.Popen[bytes], float]:
        # A process group of its own: a terminal's Ctrl-C reaches the supervisor only, which
        # passes one SIGTERM on (a second signal would cut uvicorn's graceful stop short).
        # argv: this interpreter and fixed arguments, no input (S603).
        return subprocess.Popen(argv, process_group=0), time.monotonic()  # noqa: S603

    workers = [start() for _ in range(count)]
    log.info("started %d workers sharing port %d", count, port)
    status = 0
    while not stopping.wait(POLL_SECONDS):
        for index, (proc, started) in enumerate(workers):
            code = proc.poll()
            if code is None:
                continue
            if time.monotonic() - started < STARTING_SECONDS:
                log.error("a worker exited with status %s while starting; stopping all", code)
                status = code or 1
                stopping.set()
                break
            log.warning("a worker exited with status %s; starting another", code)
            workers[index] = start()
    _stop([proc for proc, _ in workers])
    return status


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every worker still running; SIGKILL to any not gone in STOP_SECONDS."""
    running = [p for p in procs if p.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for proc in running:
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
