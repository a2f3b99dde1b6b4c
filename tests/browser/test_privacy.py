"""What the web client keeps on a device, and leaving without a trace (issue 12, item 9).

"Leave without a trace" leaves every room, closes the socket and removes every `psc.` key from
localStorage and sessionStorage, in this tab and in the device's other tabs; "Remember me only
in this tab" keeps the member token in sessionStorage. Both are driven here as a person would,
by mouse and by keyboard only, at 360 px and on a desktop.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, WebSocket, expect

from tests.browser.conftest import (
    DESKTOP,
    SCREENSHOTS,
    Pages,
    agree,
    enter_room,
    facilitator_token,
    say,
    screenshot,
    sign_in_as_facilitator,
    unique,
    wait_for_body,
)

pytestmark = pytest.mark.browser

NARROW = (360, 740)
GONE = "Nothing about you is left on this device"

# Every key of ours, in both stores; what "leave without a trace" must leave empty.
OWN_KEYS = """() => {
  const own = (s) => Object.keys(s).filter((k) => k.startsWith("psc.")).sort();
  return { local: own(localStorage), session: own(sessionStorage) };
}"""


def own_keys(page: Page) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = page.evaluate(OWN_KEYS)
    return keys


def sent_frames(page: Page) -> list[dict[str, Any]]:
    """Start recording what the page sends on every socket it opens from now on."""
    sent: list[dict[str, Any]] = []

    def on_socket(ws: WebSocket) -> None:
        ws.on("framesent", lambda data: sent.append(json.loads(data)))

    page.on("websocket", on_socket)
    return sent


def leave_without_a_trace(page: Page) -> None:
    """The footer's control, then the confirmation."""
    page.locator("footer").get_by_role("button", name="Leave without a trace").click()
    dialog = page.get_by_role("dialog", name="Leave without a trace?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Leave and forget me").click()
    expect(page.get_by_role("heading", name=GONE)).to_be_focused()


def test_leave_without_a_trace_forgets_the_member_and_a_reload_is_someone_new(
    pages: Pages,
) -> None:
    page = pages.open()
    room = "general-check-in"
    enter_room(page, room)
    agree(page)
    say(page, unique("Thanks for listening tonight"))
    handle = page.locator("#my-handle").inner_text()
    token = page.evaluate("localStorage.getItem('psc.member-token')")
    assert token
    assert own_keys(page) == {"local": ["psc.member-token"], "session": [f"psc.agreed.{room}"]}
    # Another tab of the same browser, in another room: it forgets too (it would otherwise
    # write its copy of the token straight back on its next reconnect).
    other = pages.tab(page, "/#/room/anxiety")
    wait_for_body(other, "data-room-state", "joined")

    sent = sent_frames(page)
    sockets: list[WebSocket] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    page.reload()
    wait_for_body(page, "data-room-state", "joined")

    # Asked first; cancelling changes nothing.
    page.locator("footer").get_by_role("button", name="Leave without a trace").click()
    dialog = page.get_by_role("dialog", name="Leave without a trace?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert page.evaluate("localStorage.getItem('psc.member-token')") == token
    wait_for_body(page, "data-state", "connected")

    leave_without_a_trace(page)
    wait_for_body(page, "data-state", "left")
    wait_for_body(other, "data-state", "left")
    for tab in (page, other):
        assert own_keys(tab) == {"local": [], "session": []}
        expect(tab.get_by_role("heading", name=GONE)).to_be_visible()
        # Nothing of the room stays on screen, and the address names no room.
        assert tab.locator("#messages li, #my-handle:not(:empty)").count() == 0
        assert tab.evaluate("location.hash") == ""
    # An explicit leave went before the socket closed, so the room saw a plain leave.
    assert {"type": "leave", "room": room} in [
        {k: f.get(k) for k in ("type", "room")} for f in sent
    ], sent
    if not sockets[-1].is_closed():
        sockets[-1].wait_for_event("close")
    assert len(sockets) == 1, "it must not connect again"
    expect(page.locator("#conn-text")).to_have_text("Not connected")

    # Coming back is a new, unknown member: a new token and another name in the same room.
    page.reload()
    enter_room(page, room)
    assert page.evaluate("localStorage.getItem('psc.member-token')") not in (None, token)
    expect(page.locator("#my-handle")).not_to_have_text(handle)
    expect(page.locator("#rules")).to_be_visible()


def test_leave_without_a_trace_forgets_a_facilitator_sign_in(pages: Pages) -> None:
    page = pages.open()
    sign_in_as_facilitator(page, facilitator_token("Robin"))
    enter_room(page, "recovery")
    agree(page)
    assert "psc.facilitator-token" in own_keys(page)["session"]
    leave_without_a_trace(page)
    assert own_keys(page) == {"local": [], "session": []}
    page.reload()
    wait_for_body(page, "data-state", "connected")
    wait_for_body(page, "data-role", "member")
    expect(page.locator("#fac-signed-in")).to_have_attribute("hidden", "")


def test_tab_only_identity_lives_in_the_tab(pages: Pages) -> None:
    page = pages.open()
    room = "caregivers"
    enter_room(page, room)
    agree(page)
    handle = page.locator("#my-handle").inner_text()
    token = page.evaluate("localStorage.getItem('psc.member-token')")
    assert token

    # Choosing "this tab only" moves the token this tab already has: still the same person.
    page.goto("/#/")
    page.get_by_label("Remember me only in this tab").check()
    expect(page.locator("#tab-only-status")).to_have_text(re.compile("this tab only"))
    assert page.evaluate("localStorage.getItem('psc.member-token')") is None
    assert page.evaluate("sessionStorage.getItem('psc.member-token')") == token
    # The only thing on the device is the choice itself, which names nobody.
    assert own_keys(page)["local"] == ["psc.identity-scope"]
    page.reload()
    enter_room(page, room)
    expect(page.locator("#my-handle")).to_have_text(handle)

    # Another tab on the same device is someone else, and leaves no token on the device either.
    other = pages.tab(page)
    expect(other.get_by_label("Remember me only in this tab")).to_be_checked()
    enter_room(other, room)
    expect(other.locator("#my-handle")).not_to_have_text(handle)
    other_token = other.evaluate("sessionStorage.getItem('psc.member-token')")
    assert other_token and other_token != token
    assert page.evaluate("localStorage.getItem('psc.member-token')") is None
    assert page.evaluate("sessionStorage.getItem('psc.member-token')") == token

    # Back to the device: this tab's token goes with it, the choice is forgotten.
    page.goto("/#/")
    page.get_by_label("Remember me only in this tab").uncheck()
    assert own_keys(page) == {"local": ["psc.member-token"], "session": [f"psc.agreed.{room}"]}
    assert page.evaluate("localStorage.getItem('psc.member-token')") == token


def close_up(part: Locator, name: str) -> None:
    """A picture of one part of the page, for a human to look at (see docs/client.md)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    part.scroll_into_view_if_needed()
    part.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def tab_to(page: Page, selector: str, presses: int = 80) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"keyboard focus never reached {selector}")


@pytest.mark.parametrize("size", [NARROW, DESKTOP], ids=["360x740", "1280x800"])
def test_the_new_controls_work_by_keyboard_alone(pages: Pages, size: tuple[int, int]) -> None:
    label = f"{size[0]}x{size[1]}"
    page = pages.open(size=size)
    wait_for_body(page, "data-rooms", "loaded")
    # Nothing sideways at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    tab_to(page, "#tab-only")
    page.keyboard.press("Space")
    expect(page.locator("#tab-only")).to_be_checked()
    expect(page.get_by_role("status").filter(has_text="this tab only")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('psc.member-token')")
    assert page.evaluate("localStorage.getItem('psc.member-token')") is None
    close_up(page.locator("section.device"), f"device-{label}")

    # The footer's control, from inside a room.
    enter_room(page, "anxiety")
    page.locator("#room-title").focus()
    tab_to(page, "footer .forget-open")
    expect(page.locator("footer .forget-open")).to_have_attribute("aria-haspopup", "dialog")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Leave without a trace?")
    expect(dialog).to_be_visible()
    # The safe choice has the focus; Escape goes back to where the person was.
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.screenshot(path=str(SCREENSHOTS / f"forget-dialog-{label}.png"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("footer .forget-open")).to_be_focused()
    assert page.evaluate("sessionStorage.getItem('psc.member-token')")

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Leave and forget me")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=GONE)).to_be_focused()
    assert own_keys(page) == {"local": [], "session": []}
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"left-{label}")
    close_up(page.locator("footer"), f"footer-{label}")
    # The way back is a link to a fresh page.
    tab_to(page, "#view-left a")
    page.keyboard.press("Enter")
    wait_for_body(page, "data-state", "connected")
    assert page.evaluate("localStorage.getItem('psc.member-token')")
