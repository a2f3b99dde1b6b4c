"""Browser fixtures: one headless Chromium per session, a real server process, a page factory.

Every page opens in a fresh browser context (its own localStorage, so its own member). Console
errors, uncaught page errors and JavaScript dialogs (alert, confirm, prompt) are collected and
fail the test that caused them.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    expect,
    sync_playwright,
)
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from server.tokens import TokenService
from tests.support import ROOT, ServerProcess, require_binary, timeout

SECRET = "browser-test-secret-0123456789abcdef"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = (1280, 800)
PHONE = (375, 812)
WAIT_MS = timeout(10) * 1000

Frame = dict[str, Any]

expect.set_options(timeout=WAIT_MS)


def server_env(workdir: Path, redis_url: str | None = None) -> dict[str, str]:
    """A server's environment: a fixed key (facilitator tokens are minted with it), test limits."""
    env = {
        "SECRET_KEY": SECRET,
        "SECRET_KEY_FILE": str(workdir / "secret"),
        "PRESENCE_HEARTBEAT_SECONDS": "0.5",
        "PRESENCE_TTL_SECONDS": "2",
        "LEAVE_JITTER_SECONDS": "0",  # leaves at once: tests wait on them
        "SEND_BURST": "50",
        "SEND_PER_SECOND": "50",
        "FRAME_BURST": "200",
        "FRAME_PER_SECOND": "100",
        "REDIS_URL": redis_url or "",
        "LOG_LEVEL": "WARNING",
    }
    if redis_url:
        env["REDIS_PREFIX"] = f"b{uuid.uuid4().hex[:10]}"
    return env


def facilitator_token(name: str = "Sam", rooms: list[str] | None = None, hours: float = 1.0) -> str:
    """What `peer-support facilitator-token --name NAME [--hours H]` prints for the tests' key."""
    return TokenService((SECRET,), 86400).issue_facilitator(name, rooms, hours)


class Pages:
    """Opens pages of the client against one server and records what must not happen."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        # Chromium logs a refused connection as a console error; only tests that stop the
        # server on purpose allow these.
        self.allowed: list[re.Pattern[str]] = []

    def open(
        self,
        path: str = "/",
        size: tuple[int, int] = DESKTOP,
        before: Callable[[Page], None] | None = None,
        locale: str | None = None,
        timezone_id: str | None = None,
    ) -> Page:
        """A page in a browser context of its own (its own storage: its own member).

        `before` runs on the page before it loads (e.g. to route its WebSocket); `locale` is
        the browser's language (navigator.languages, Accept-Language), `timezone_id` its zone.
        """
        context = self.browser.new_context(
            viewport={"width": size[0], "height": size[1]},
            base_url=self.base_url,
            locale=locale,
            timezone_id=timezone_id,
        )
        context.set_default_timeout(WAIT_MS)
        self.contexts.append(context)
        return self._load(context.new_page(), path, before)

    def tab(self, page: Page, path: str = "/") -> Page:
        """Another tab in `page`'s browser: it shares localStorage, not sessionStorage."""
        return self._load(page.context.new_page(), path, None)

    def _load(self, page: Page, path: str, before: Callable[[Page], None] | None) -> Page:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("dialog", self._on_dialog)
        if before is not None:
            before(page)
        page.goto(path)
        wait_for_body(page, "data-state", "connected")
        return page

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "warning"):
            return
        text = f"console {message.type}: {message.text}"
        if not any(p.search(message.text) for p in self.allowed):
            self.errors.append(text)

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()

    def check(self) -> None:
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.errors == [], f"console errors: {self.errors}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium (Debian's; no browser download) for the whole session."""
    path = require_binary("chromium")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server process shared by the browser tests (each test uses its own room or text)."""
    yield from own_server(tmp_path_factory, "browser-server")


def own_server(
    tmp_path_factory: pytest.TempPathFactory, name: str, rooms: str | None = None, **env: str
) -> Iterator[ServerProcess]:
    """A server process of a module's own (for its module-scoped `app_server` override), with
    `rooms` (a rooms file's text) as its catalogue and `env` added to its environment."""
    workdir = tmp_path_factory.mktemp(name)
    if rooms is not None:
        (workdir / "rooms.toml").write_text(rooms)
        env = {"ROOMS_FILE": str(workdir / "rooms.toml"), **env}
    server = ServerProcess({**server_env(workdir), **env}, workdir / "server.log")
    server.start()
    yield server
    server.stop()


def unique(text: str) -> str:
    """Text no other test writes, so tests sharing a server never see each other's."""
    return f"{text} {uuid.uuid4().hex[:6]}"


@pytest.fixture
def pages(browser: Browser, app_server: ServerProcess) -> Iterator[Pages]:
    """Pages on the shared server; the test fails on console errors or dialogs."""
    opened = Pages(browser, app_server.http)
    try:
        yield opened
    finally:
        opened.close()
    opened.check()


# ---------- what tests do on a page ----------
# Readiness is awaited with wait_for_selector/wait_for_function (they watch the page), not with
# `expect`, whose retries back off to a second and would make the suite several times slower.


def wait_for_body(page: Page, attribute: str, value: str) -> None:
    """Wait until `<body>` carries a readiness flag."""
    page.wait_for_selector(f'body[{attribute}="{value}"]', state="attached")


def seen(page: Page, text: str) -> Locator:
    """Wait until a message with exactly `text` is on the page; its item."""
    found = message(page, text).last
    found.wait_for()
    return found


def enter_room(page: Page, room: str) -> None:
    """Open a room and wait until it is joined (the ground rules are shown, not agreed)."""
    page.goto(f"/#/room/{room}")
    wait_for_body(page, "data-room-state", "joined")


def agree(page: Page) -> None:
    page.get_by_role("button", name="I agree to the ground rules").click()
    page.wait_for_selector("#message-input:enabled")


def say(page: Page, text: str) -> None:
    """Type and send with Enter; wait until the message is back from the server."""
    page.locator("#message-input").fill(text)
    page.locator("#message-input").press("Enter")
    seen(page, text)
    page.wait_for_function("document.getElementById('message-input').value === ''")


def message(page: Page, text: str) -> Locator:
    """The message item whose text is exactly `text`."""
    return page.locator("#messages .msg").filter(
        has=page.locator(".msg-text").get_by_text(text, exact=True)
    )


def sign_in_as_facilitator(page: Page, token: str) -> None:
    """Paste a facilitator token on the home page, as a facilitator would."""
    page.goto("/#/")
    page.locator("#fac-details summary").click()
    page.get_by_label("Facilitator token").fill(token)
    page.get_by_role("button", name="Sign in as facilitator").click()
    wait_for_body(page, "data-role", "facilitator")
    wait_for_body(page, "data-state", "connected")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # From the top: a full-page picture of a scrolled page draws the sticky header mid-page.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    return path


@contextlib.contextmanager
def wire_client(url: str) -> Iterator[WireClient]:
    """A plain WebSocket client of the wire contract (not a browser), closed on exit."""
    with ws_connect(url, open_timeout=timeout(5)) as ws:
        yield WireClient(ws)


class WireClient:
    """Speaks the wire contract over an open connection, keeping every frame it read."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Frame] = []

    def send(self, frame: Frame) -> None:
        self.ws.send(json.dumps(frame))

    def expect(self, kind: str, **match: Any) -> Frame:
        while True:
            raw = self.ws.recv(timeout=timeout(5))
            frame: Frame = json.loads(raw)
            self.frames.append(frame)
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame
            if frame.get("type") == "error" and "ref" in match and frame.get("ref") == match["ref"]:
                raise AssertionError(f"refused: {frame}")

    def enter(self, room: str) -> Frame:
        self.send({"type": "hello"})
        self.expect("welcome")
        self.send({"type": "join", "room": room, "ref": "j"})
        joined = self.expect("joined", ref="j")
        self.send({"type": "agree", "room": room, "ref": "a"})
        self.expect("ack", ref="a")
        return joined

    def say(self, room: str, text: str) -> Frame:
        ref = uuid.uuid4().hex[:8]
        self.send({"type": "send", "room": room, "text": text, "ref": ref})
        return self.expect("ack", ref=ref)
