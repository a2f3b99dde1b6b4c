"""Operating the server: configuration errors, `check`, /metrics, logs without personal data."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.setting_docs import SETTINGS, RecordingEnv, flag_name, masked_value
from server.settings import Settings
from tests.conftest import AppServer, ConnectClient, StartServer
from tests.support import ROOT

ROOM = "anxiety"


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "-m", "server", *args], capture_output=True, text=True,
        env={**base, **env}, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip


def test_every_setting_read_is_documented_and_in_the_operations_guide(tmp_path: Path) -> None:
    env = RecordingEnv({"SECRET_KEY_FILE": str(tmp_path / "k")})
    Settings.from_env(env)
    documented = {d.name for d in SETTINGS}
    assert env.asked <= documented, env.asked - documented
    guide = (ROOT / "docs" / "operations.md").read_text()
    missing = [d.name for d in SETTINGS if f"`{d.name}`" not in guide]
    assert not missing, missing


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"MAX_TEXT_CHARS": "lots"}, "MAX_TEXT_CHARS"),
        ({"REDIS_URL": "http://nope"}, "REDIS_URL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"HISTORY_MAX_MESSAGES": "-4"}, "HISTORY_MAX_MESSAGES"),
    ],
)
def test_configuration_errors_name_the_setting_and_exit_non_zero(
    env: dict[str, str], needle: str, tmp_path: Path
) -> None:
    for command in (["serve", "--port", "1"], ["check"]):
        result = run_cli(*command, env={"SECRET_KEY_FILE": str(tmp_path / "k"), **env})
        assert result.returncode == 2
        assert needle in result.stderr and "configuration error" in result.stderr


def test_serve_flags_mirror_the_settings(tmp_path: Path) -> None:
    result = run_cli("serve", "--help", env={})
    assert result.returncode == 0
    for doc in SETTINGS:
        assert flag_name(doc.name) in result.stdout
    bad = run_cli("serve", "--max-text-chars", "lots", env={"SECRET_KEY_FILE": str(tmp_path / "k")})
    assert bad.returncode == 2 and "MAX_TEXT_CHARS" in bad.stderr


def test_check_masks_secrets_and_reports_redis(tmp_path: Path) -> None:
    secret = "s3cret-key-that-must-not-show"
    result = run_cli(
        "check",
        env={"SECRET_KEY": secret, "REDIS_URL": "redis://:hunter2@127.0.0.1:1/0",
             "SECRET_KEY_FILE": str(tmp_path / "k")},
    )  # fmt: skip
    assert result.returncode == 1
    assert secret not in result.stdout and "hunter2" not in result.stdout
    assert "UNREACHABLE" in result.stdout and "10 in the rooms file" in result.stdout
    ok = run_cli("check", env={"SECRET_KEY": secret, "SECRET_KEY_FILE": str(tmp_path / "k")})
    assert ok.returncode == 0 and "in-memory" in ok.stdout
    doc = next(d for d in SETTINGS if d.name == "REDIS_URL")
    assert masked_value(doc, "redis://u:p@host:6379/0") == "redis://***@host:6379/…"


def _scrape(server: AppServer, token: str | None = None) -> dict[str, float]:
    request = urllib.request.Request(server.http + "/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + "".join(f"|{k}={v}" for k, v in sorted(sample.labels.items()))
            values[key] = sample.value
    return values


METRICS_TOKEN = "metrics-secret-0123456789"


async def test_metrics_parse_and_move_with_traffic(
    start_server: StartServer, connect: ConnectClient
) -> None:
    server = await start_server(METRICS_TOKEN=METRICS_TOKEN)
    before = await asyncio.to_thread(_scrape, server, METRICS_TOKEN)
    a = await connect(server.ws)
    b = await connect(server.ws)
    await a.enter(ROOM)
    await b.enter(ROOM)
    for i in range(20):
        await a.say(ROOM, f"m{i}")
    await b.expect("message", text="m19")
    await a.request({"type": "send", "room": ROOM, "text": "call 555-123-4567"})
    await a.request({"type": "mute", "room": ROOM, "participant": "x", "minutes": 1})
    after = await asyncio.to_thread(_scrape, server, METRICS_TOKEN)
    assert after["peer_support_messages_in_total"] - before["peer_support_messages_in_total"] == 20
    assert after["peer_support_deliveries_total"] >= before["peer_support_deliveries_total"] + 40
    assert after["peer_support_connections"] == 2
    assert after["peer_support_rooms_served"] == 1
    assert after["peer_support_delivery_latency_seconds_count"] >= 1
    assert after["peer_support_held_messages_total|reason=contact_details"] == 1
    assert after["peer_support_errors_total|code=forbidden"] == 1
    assert "peer_support_event_loop_lag_seconds" in after


async def test_metrics_token(start_server: StartServer) -> None:
    closed = await start_server()
    with pytest.raises(urllib.error.HTTPError) as absent:
        await asyncio.to_thread(_scrape, closed)
    absent.value.close()
    assert absent.value.code == 404  # no token set: nobody reads the counters
    server = await start_server(METRICS_TOKEN=METRICS_TOKEN)
    with pytest.raises(urllib.error.HTTPError) as refused:
        await asyncio.to_thread(_scrape, server)
    refused.value.close()
    assert refused.value.code == 401
    assert "peer_support_connections" in await asyncio.to_thread(_scrape, server, METRICS_TOKEN)


def test_json_logs_carry_no_address_token_or_text(tmp_path: Path) -> None:
    from tests.support import ServerProcess

    async def chat(url: str) -> list[str]:
        from tests.support import Client

        a = await Client.connect(url)
        b = await Client.connect(url)
        welcome = await a.hello()
        await b.hello()
        await a.enter(ROOM)
        await b.enter(ROOM)
        said = await a.say(ROOM, "my very private sentence")
        await a.request({"type": "send", "room": ROOM, "text": "x" * 3000})
        await a.send_raw("{broken")
        # a moderation run too: report, mute, delete, remove, audit
        from server.tokens import TokenService

        fac_token = TokenService(("json-log-test-key-123456",), 60).issue_facilitator(
            "Sam", None, 1
        )
        fac = await Client.connect(url)
        await fac.send({"type": "hello", "facilitator_token": fac_token})
        await fac.expect("welcome")
        await fac.enter(ROOM)
        await b.request({"type": "report", "room": ROOM, "message_id": said["id"],
                         "reason": "reason-text-secret"})  # fmt: skip
        pid = (await fac.expect("reported"))["participant"]
        for frame in (
            {"type": "mute", "participant": pid, "minutes": 5, "reason": "mute-reason-secret"},
            {"type": "delete", "message_id": said["id"]},
            {"type": "remove", "participant": pid, "minutes": 5},
        ):
            assert (await fac.request({**frame, "room": ROOM}))["type"] == "ack"
        await fac.send({"type": "audit", "room": ROOM})
        await fac.expect("audit_log")
        for client in (a, b, fac):
            await client.close()
        return [welcome["token"], fac_token]

    server = ServerProcess(
        {"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG", "SECRET_KEY": "json-log-test-key-123456",
         "SECRET_KEY_FILE": str(tmp_path / "k")},
        tmp_path / "server.log",
    )  # fmt: skip
    server.start()
    try:
        tokens = asyncio.run(chat(server.ws))
    finally:
        server.stop()
    lines = [line for line in server.log().splitlines() if line.strip()]
    assert lines
    for line in lines:
        entry = json.loads(line)
        assert {"ts", "level", "logger", "msg"} <= set(entry)
    text = server.log()
    assert "my very private sentence" not in text and "xxxxxxxx" not in text
    assert "reason-text-secret" not in text and "mute-reason-secret" not in text
    assert all(token not in text for token in tokens)
    assert "127.0.0.1" not in text


async def test_compression_is_off_unless_asked_for(start_server: StartServer) -> None:
    from tests.support import Client

    plain = await start_server()
    client = await Client.connect(plain.ws)  # offers permessage-deflate, as browsers do
    assert client.ws.protocol.extensions == []
    await client.close()
    compressing = await start_server(WS_PER_MESSAGE_DEFLATE="1")
    client = await Client.connect(compressing.ws)
    assert [e.name for e in client.ws.protocol.extensions] == ["permessage-deflate"]
    await client.close()
