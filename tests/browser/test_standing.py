"""A facilitator whose standing ends while the page is open (`facilitator_ended`).

When the server says `{"type":"facilitator_ended","reason":"expired"|"revoked"}` (docs/protocol.md,
"Losing facilitator standing"), the page is a member's at once: side panel, queue, hands,
facilitator actions and others' private conversations gone, the facilitator token out of
storage, and the reason said plainly in the live region.

Which server drives it: when the server under test sends `facilitator_ended` (its source names
the frame), the facilitator signs in with a token that expires a few seconds later and the real
server ends the standing, `presence` `update` and all. Until then, the frame is injected into
the page's own WebSocket by Playwright's WebSocket routing: the page talks to the real server
through the route, and the test adds the frames the server would send (`facilitator_ended`, then
the `presence` `update` with role member, then a late facilitator-only frame), so they reach the
client's own frame handler exactly as the server's would. The page has no test hook.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import (
    WAIT_MS,
    Pages,
    agree,
    enter_room,
    facilitator_token,
    message,
    say,
    seen,
    sign_in_as_facilitator,
    unique,
    wait_for_body,
)
from tests.support import ROOT, timeout

pytestmark = pytest.mark.browser

# Whether the server on this branch ends standing by itself; see the module's docstring.
SERVER_ENDS_STANDING = any(
    "facilitator_ended" in path.read_text() for path in (ROOT / "server").rglob("*.py")
)
# Long enough for the sign-in and the setup below on a slow machine, short enough to wait for.
TOKEN_SECONDS = timeout(20)
ENDED = "Your facilitator access has ended (expired). You can stay in the room as a member."


class Relay:
    """The page's WebSocket passed through to the real server, with a way to add frames."""

    def __init__(self) -> None:
        self.route: WebSocketRoute | None = None

    def install(self, page: Page) -> None:
        def handler(ws: WebSocketRoute) -> None:
            ws.connect_to_server()  # no handlers of ours: both directions pass through as they are
            self.route = ws  # the newest socket (a sign-in reconnects)

        page.route_web_socket(re.compile(r"/ws$"), handler)

    def to_page(self, frame: dict[str, Any]) -> None:
        assert self.route is not None, "the page never opened its socket"
        self.route.send(json.dumps(frame))


def test_facilitator_mode_ends_at_once_when_the_server_ends_standing(pages: Pages) -> None:
    room = "chronic-illness"
    relay = Relay()
    facilitator = pages.open(before=relay.install)
    hours = TOKEN_SECONDS / 3600 if SERVER_ENDS_STANDING else 1.0
    sign_in_as_facilitator(facilitator, facilitator_token("Kim", hours=hours))
    enter_room(facilitator, room)
    agree(facilitator)
    member = pages.open()
    enter_room(member, room)
    agree(member)
    handle = member.locator("#my-handle").inner_text()
    shared = unique("Pacing myself this week")
    say(member, shared)
    from_member = seen(facilitator, shared)
    expect(from_member.get_by_role("button", name=f"Delete message from {handle}")).to_be_visible()
    welcome = unique("Welcome, take your time")
    say(facilitator, welcome)
    me = message(facilitator, welcome).get_attribute("data-participant")
    my_handle = facilitator.locator("#my-handle").inner_text()
    expect(member.locator("#room-flags")).to_contain_text("Facilitator here")

    # A private conversation with the member, and a dialog left open: both must go.
    facilitator.get_by_role("button", name=f"Talk privately with {handle}").click()
    box = facilitator.get_by_role("textbox", name="Private message")
    private = unique("Checking in privately")
    box.fill(private)
    box.press("Enter")
    expect(member.locator(".private-thread .msg")).to_have_count(1)
    facilitator.get_by_role("button", name=f"Mute {handle}", exact=True).click()
    expect(facilitator.locator("#mod-dialog")).to_be_visible()
    expect(facilitator.locator("#fac-panel")).to_be_visible()

    if SERVER_ENDS_STANDING:
        # The real server: the token runs out on its own.
        facilitator.wait_for_selector(
            'body[data-role="member"]', state="attached", timeout=WAIT_MS + TOKEN_SECONDS * 1000
        )
    else:
        relay.to_page({"type": "facilitator_ended", "reason": "expired"})
        relay.to_page(
            {
                "type": "presence",
                "room": room,
                "event": "update",
                "participant": me,
                "handle": my_handle,
                "role": "member",
                "listening": False,
            }
        )

    wait_for_body(facilitator, "data-role", "member")
    expect(facilitator.locator("#alerts")).to_have_text(ENDED)
    notice = facilitator.locator('[data-key="fac-token"]')
    expect(notice).to_contain_text(ENDED)
    expect(facilitator.locator("#fac-panel")).to_be_hidden()
    expect(facilitator.locator("#mod-dialog")).to_be_hidden()
    assert facilitator.evaluate("sessionStorage.getItem('psc.facilitator-token')") is None
    # Member's actions now: Report on others' messages; no Flag or Delete anywhere.
    facilitator_actions = re.compile("^(Flag|Delete) ")
    expect(
        facilitator.locator("#messages").get_by_role("button", name=facilitator_actions)
    ).to_have_count(0)
    expect(from_member.get_by_role("button", name=f"Report message from {handle}")).to_be_visible()
    # The member's private conversation is theirs and the facilitators': no longer this tab's.
    expect(facilitator.locator(".private-thread")).to_have_count(0)
    assert facilitator.get_by_text(private).count() == 0
    expect(member.locator(".private-thread .msg")).to_have_count(1)
    # The same participant and name, as a member who may listen, raise a hand and write.
    expect(facilitator.locator("#my-handle")).to_have_text(my_handle)
    expect(facilitator.get_by_role("button", name="Just listen")).to_be_visible()
    expect(facilitator.locator("#room-flags")).not_to_contain_text("Facilitator here")
    if SERVER_ENDS_STANDING:
        # The room heard it too (injected frames reach only the facilitator's page).
        expect(member.locator("#room-flags")).not_to_contain_text("Facilitator here")
    notice.get_by_role("button", name="Dismiss this notice").click()
    if not SERVER_ENDS_STANDING:
        # A facilitator-only frame already on its way is not shown, and a repeat is not news.
        relay.to_page(
            {"type": "queue_item", "room": room,
             "item": {"id": 99, "kind": "alert", "participant": me, "status": "open"}}
        )  # fmt: skip
        relay.to_page({"type": "facilitator_ended", "reason": "expired"})  # said once only
    after = unique("Still here, as a member now")
    say(facilitator, after)
    seen(member, after)
    expect(facilitator.locator("#queue .queue-item")).to_have_count(0)
    expect(notice).to_have_count(0)

    # A reload presents no facilitator token: a member from the start.
    facilitator.reload()
    wait_for_body(facilitator, "data-room-state", "joined")
    expect(facilitator.locator("body")).to_have_attribute("data-role", "member")
