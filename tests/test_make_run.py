"""The README's `make run` serves the embedded default, and two websockets clients chat on it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ConnectClient
from tests.support import ROOT, free_port, require_binary, wait_until

pytestmark = pytest.mark.cluster


async def test_make_run_then_two_clients_chat(connect: ConnectClient, tmp_path: Path) -> None:
    require_binary("make")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "SECRET_KEY")}
    env["SECRET_KEY_FILE"] = str(tmp_path / "secret")
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(  # noqa: ASYNC220 - starting a process does not block the loop
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # make and the server in one group, stopped together
    )

    def listening() -> bool:
        assert proc.poll() is None, (tmp_path / "run.log").read_text()
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(listening, 120, "make run to serve")  # may install into .venv first
        url = f"ws://127.0.0.1:{port}/ws"
        a = await connect(url)
        b = await connect(url)
        await a.enter("general-check-in")
        await b.enter("general-check-in")
        sent = await a.say("general-check-in", "hello from a")
        got = await b.expect("message", id=sent["id"])
        assert got["text"] == "hello from a"
        reply = await b.say("general-check-in", "hi a, this is b")
        assert (await a.expect("message", id=reply["id"]))["text"] == "hi a, this is b"
        # the embedded default keeps its generated key private
        assert (tmp_path / "secret").stat().st_mode & 0o077 == 0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        log.close()
    assert "with the MemoryBroker broker" in (tmp_path / "run.log").read_text()
