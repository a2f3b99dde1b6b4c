"""Screenshots for a human to look at: test-artifacts/screenshots/ (see docs/client.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    Pages,
    agree,
    enter_room,
    facilitator_token,
    say,
    screenshot,
    server_env,
    sign_in_as_facilitator,
    wait_for_body,
    wire_client,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser

ROOMS = {PHONE: "caregivers", DESKTOP: "chronic-illness"}


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own, so the pictures show only this conversation."""
    workdir: Path = tmp_path_factory.mktemp("screenshot-server")
    server = ServerProcess(server_env(workdir), workdir / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["375x812", "1280x800"])
def test_screenshots_of_directory_room_and_facilitator_view(
    pages: Pages, app_server: ServerProcess, size: tuple[int, int]
) -> None:
    label = f"{size[0]}x{size[1]}"
    room = ROOMS[size]
    member = pages.open(size=size)
    wait_for_body(member, "data-rooms", "loaded")
    screenshot(member, f"directory-{label}")

    with wire_client(app_server.ws) as peer:
        peer.enter(room)
        peer.say(room, "Evening all. Mum had a hard day, so I'm just glad to sit down.")
        enter_room(member, room)
        screenshot(member, f"room-rules-{label}")
        agree(member)
        peer.say(room, "Same here. Does anyone else feel guilty taking time for themselves?")
        say(member, "I do. Reading this helps <3")
        hard = "Dad was taken to hospital again on Tuesday. I sat with him all night."
        peer.send({"type": "send", "room": room, "ref": "cw", "cw": "hospital", "text": hard})
        peer.expect("ack", ref="cw")
        member.get_by_role("button", name="Raise hand").click()
        expect(member.locator("#hand-status")).to_contain_text("next in line")

        facilitator = pages.open(size=size)
        sign_in_as_facilitator(facilitator, facilitator_token("Sam"))
        enter_room(facilitator, room)
        agree(facilitator)
        say(facilitator, "Welcome, everyone. Remember it's fine to just listen tonight.")
        expect(facilitator.locator("#participants .participant")).not_to_have_count(0)
        expect(facilitator.locator("#hands .hand")).to_have_count(1)
        screenshot(member, f"room-{label}")
        screenshot(facilitator, f"facilitator-{label}")
        member.emulate_media(color_scheme="dark", reduced_motion="reduce")
        screenshot(member, f"room-dark-{label}")
        member.emulate_media(color_scheme="light", reduced_motion="reduce")

        # A private conversation, from both sides.
        handle = member.locator("#my-handle").inner_text()
        facilitator.get_by_role("button", name=f"Talk privately with {handle}").click()
        box = facilitator.get_by_role("textbox", name="Private message")
        box.fill("Hi, I'm here if you want to talk. How are you holding up?")
        box.press("Enter")
        thread = member.locator(".private-thread")
        expect(thread.locator(".msg")).to_have_count(1)
        expect(thread.locator(".pt-support")).to_be_visible()
        screenshot(member, f"private-{label}")
        screenshot(facilitator, f"facilitator-private-{label}")
