"""A facilitator runs a session from the web client; members see the effects.

Written against the wire contract's facilitation frames (mute, unmute, remove, delete, report,
queue, resolve, slow, lock, announce, end_session, audit). They run on a server of their own so
a locked room or a removal cannot leak into other tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    Pages,
    agree,
    enter_room,
    facilitator_token,
    message,
    own_server,
    say,
    seen,
    sign_in_as_facilitator,
    unique,
    wait_for_body,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """This module's own server (overrides the shared one for `pages`)."""
    yield from own_server(tmp_path_factory, "facilitation-server")


def session(pages: Pages, room: str) -> tuple[Page, Page, str]:
    """A facilitator and a member in `room`, both past the ground rules; the member's handle."""
    facilitator = pages.open()
    sign_in_as_facilitator(facilitator, facilitator_token("Sam"))
    enter_room(facilitator, room)
    agree(facilitator)
    member = pages.open()
    enter_room(member, room)
    agree(member)
    handle = member.locator("#my-handle").inner_text()
    expect(
        facilitator.locator("#participants .participant").filter(has_text=handle)
    ).to_be_visible()
    return facilitator, member, handle


def act(facilitator: Page, action: str, handle: str, minutes: str | None = None,
        reason: str = "") -> None:  # fmt: skip
    """Press a participant's action button and confirm the dialog."""
    facilitator.get_by_role("button", name=f"{action} {handle}", exact=True).click()
    dialog = facilitator.locator("#mod-dialog")
    expect(dialog).to_be_visible()
    if minutes is not None:
        dialog.get_by_label("For how long").select_option(minutes)
    if reason:
        dialog.locator("#mod-reason").fill(reason)
    dialog.get_by_role("button", name=action, exact=True).click()
    expect(dialog).to_be_hidden()


def test_a_muted_member_sees_time_left_and_cannot_send_then_is_removed(pages: Pages) -> None:
    facilitator, member, handle = session(pages, "depression")
    say(member, unique("I had a rough week"))

    act(facilitator, "Mute", handle, minutes="15", reason="Let's give others space to share")
    notice = member.locator('[data-key="muted"]')
    expect(notice).to_contain_text("muted")
    expect(notice).to_contain_text(re.compile(r"1[45] more minutes"))
    expect(notice).to_contain_text("Let's give others space to share")
    expect(member.locator("#message-input")).to_be_disabled()
    expect(member.get_by_role("button", name="Send")).to_be_disabled()
    expect(member.locator("#alerts")).to_contain_text("muted")
    expect(facilitator.locator("#participants")).to_contain_text("Muted until")
    expect(facilitator.locator("#fac-panel-status")).to_contain_text(f"{handle} is muted")

    act(facilitator, "Remove", handle, minutes="60", reason="Repeated advice after a warning")
    wait_for_body(member, "data-room-state", "removed")
    expect(member.locator('[data-key="removed"]')).to_contain_text("removed you")
    expect(member.locator('[data-key="removed"]')).to_contain_text("Repeated advice")
    expect(member.locator("#composer")).to_be_hidden()
    participants = facilitator.locator("#participants .participant")
    expect(participants.filter(has_text=handle)).to_have_count(0)

    # Coming back too soon is refused, and the page says so instead of joining.
    member.reload()
    wait_for_body(member, "data-room-state", "removed")
    expect(member.locator('[data-key="removed"]')).to_contain_text("come back after")


def test_unmute_lets_the_member_write_again(pages: Pages) -> None:
    facilitator, member, handle = session(pages, "anxiety")
    act(facilitator, "Mute", handle, minutes="5")
    expect(member.locator("#message-input")).to_be_disabled()
    act(facilitator, "Unmute", handle)
    expect(member.locator('[data-key="unmuted"]')).to_be_visible()
    expect(member.locator("#message-input")).to_be_enabled()
    say(member, unique("Thank you, I'm back"))


def test_a_deleted_message_disappears_for_everyone(pages: Pages) -> None:
    facilitator, member, handle = session(pages, "recovery")
    text = unique("Here is where you can buy")
    say(member, text)
    seen(facilitator, text)
    message(facilitator, text).get_by_role("button", name=f"Delete message from {handle}").click()
    dialog = facilitator.locator("#mod-dialog")
    dialog.get_by_role("button", name="Delete", exact=True).click()
    for page in (member, facilitator):
        expect(message(page, text)).to_have_count(0)
        expect(page.locator("#messages .msg.deleted")).to_contain_text("removed by a facilitator")


def test_a_report_reaches_the_queue_and_is_resolved(pages: Pages) -> None:
    facilitator, reporter, _ = session(pages, "bipolar")
    writer = pages.open()
    enter_room(writer, "bipolar")
    agree(writer)
    writer_handle = writer.locator("#my-handle").inner_text()
    text = unique("You should just stop your meds")
    say(writer, text)

    message(reporter, text).get_by_role(
        "button", name=f"Report message from {writer_handle}"
    ).click()
    dialog = reporter.get_by_role("dialog", name="Report this message")
    dialog.get_by_label("Harassment or hate").check()
    dialog.get_by_label("More detail (optional)").fill("unasked medical advice")
    dialog.get_by_role("button", name="Send report").click()
    expect(reporter.locator("#composer-status")).to_contain_text("went to this room's facilitators")

    item = facilitator.locator("#queue .queue-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Report")
    expect(item).to_contain_text("unasked medical advice")
    item.get_by_role("button", name="Resolve report").click()
    expect(item).to_have_count(0)
    expect(facilitator.locator("#queue-empty")).to_be_visible()


def test_slow_mode_lock_announce_and_end_session(pages: Pages) -> None:
    facilitator, member, _ = session(pages, "caregivers")
    say(member, unique("Before the end"))

    facilitator.get_by_label("Slow mode").select_option("30")
    facilitator.get_by_role("button", name="Set", exact=True).click()
    expect(member.locator('[data-key="slow"]')).to_contain_text("30 seconds")

    facilitator.get_by_role("button", name="Lock room").click()
    expect(member.locator('[data-key="locked"]')).to_be_visible()
    latecomer = pages.open()
    latecomer.goto("/#/room/caregivers")
    expect(latecomer.locator('[data-key="join"]')).to_contain_text("locked")
    facilitator.get_by_role("button", name="Unlock room").click()
    expect(member.locator('[data-key="locked"]')).to_have_count(0)

    note = unique("We have ten minutes left; let's start the check-out round")
    facilitator.get_by_label("Announcement to the room").fill(note)
    facilitator.get_by_role("button", name="Announce").click()
    expect(message(member, note).locator(".msg-badge")).to_have_text("Announcement")

    facilitator.get_by_role("button", name="End session").click()
    facilitator.locator("#mod-dialog").get_by_role("button", name="End session").click()
    expect(member.locator('[data-key="ended"]')).to_contain_text("session has ended")
    expect(member.locator("#messages .msg")).to_have_count(0)

    facilitator.get_by_label("Slow mode").select_option("0")
    facilitator.get_by_role("button", name="Set", exact=True).click()
    expect(member.locator('[data-key="slow"]')).to_have_count(0)


def test_the_audit_log_lists_actions(pages: Pages) -> None:
    facilitator, _, handle = session(pages, "chronic-illness")
    act(facilitator, "Flag", handle, reason="check on later")
    act(facilitator, "Mute", handle, minutes="5", reason="cooling off")
    facilitator.get_by_role("button", name="Show audit log").click()
    log = facilitator.locator("#audit-list")
    expect(log).to_contain_text("mute")
    expect(log).to_contain_text(handle)
    expect(log).to_contain_text("cooling off")


def test_crisis_language_is_never_blocked_and_brings_help(pages: Pages) -> None:
    facilitator, member, handle = session(pages, "general-check-in")
    text = unique("Honestly some nights I want to die")
    say(member, text)
    # The room still sees it; the author privately sees where to get help right now.
    seen(facilitator, text)
    support = member.get_by_role("region", name="You don't have to go through this alone")
    expect(support).to_be_visible()
    expect(support).to_contain_text("988")
    expect(support.get_by_role("link", name=re.compile("findahelpline"))).to_be_visible()
    expect(member.locator("#alerts")).to_contain_text("help is available")
    # The facilitator gets an alert in the queue.
    alert = facilitator.locator("#queue .queue-item").filter(has_text="Crisis alert")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text(handle)
    expect(message(facilitator, text)).to_have_class(re.compile(r"\balerted\b"))
    support.get_by_role("button", name="Close").click()
    expect(support).to_be_hidden()
    expect(member.locator("#message-input")).to_be_focused()
