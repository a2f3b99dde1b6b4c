"""The page survives a server restart: it reconnects by itself and shows what it missed."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import (
    Pages,
    agree,
    enter_room,
    message,
    say,
    server_env,
    wait_for_body,
    wire_client,
)
from tests.support import RedisServer, ServerProcess

pytestmark = pytest.mark.browser

ROOM = "general-check-in"


@pytest.mark.parametrize("broker", ["memory", "redis"])
def test_restart_reconnects_and_shows_missed_messages(
    browser: Browser, tmp_path: Path, broker: str, request: pytest.FixtureRequest
) -> None:
    redis_url = None
    if broker == "redis":
        redis_server: RedisServer = request.getfixturevalue("redis_server")
        redis_url = redis_server.url
    server = ServerProcess(server_env(tmp_path, redis_url), tmp_path / "server.log")
    server.start()
    pages = Pages(browser, server.http)
    # While the server is down Chromium logs each refused connection attempt; nothing else may.
    pages.allowed = [re.compile(r"ERR_CONNECTION_REFUSED|WebSocket connection to .* failed")]
    try:
        page = pages.open()
        body = page.locator("body")
        enter_room(page, ROOM)
        agree(page)
        before = f"Before the restart {uuid.uuid4().hex[:6]}"
        say(page, before)

        server.stop()  # SIGTERM: the server closes every socket with 1012
        expect(body).not_to_have_attribute("data-state", "connected")
        expect(page.locator("#conn-text")).to_have_text(re.compile("Reconnecting|Connecting"))
        server.start()  # same port

        with wire_client(server.ws) as client:
            client.enter(ROOM)
            missed = [f"Sent while you were away {i} {uuid.uuid4().hex[:6]}" for i in (1, 2)]
            for text in missed:
                client.say(ROOM, text)

            wait_for_body(page, "data-state", "connected")
            wait_for_body(page, "data-room-state", "joined")
            for text in missed:
                expect(message(page, text)).to_have_count(1)
            if broker == "redis":
                # History survived: `since` was honoured, nothing shown twice, no gap reported.
                expect(message(page, before)).to_have_count(1)
                expect(page.locator('[data-key="gap"]')).to_have_count(0)
            else:
                # The memory broker lost the history with the process: the page says so.
                expect(page.locator('[data-key="gap"]')).to_contain_text("could not be recovered")

            after = f"Back again {uuid.uuid4().hex[:6]}"
            say(page, after)
            client.expect("message", text=after)
    finally:
        pages.close()
        server.stop()
    pages.check()
