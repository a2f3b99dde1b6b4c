"""Running a session from the web client: listen only, raised hands and turns, waiting for a
facilitator, pause, content warnings, held contact details and private conversations.

Written against "Running a session" in the wire contract. The module has a server of its own,
so a paused room or a called-on turn cannot leak into other tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

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
    yield from own_server(tmp_path_factory, "session-server")


def facilitator_in(pages: Pages, room: str) -> Page:
    page = pages.open()
    sign_in_as_facilitator(page, facilitator_token("Sam"))
    enter_room(page, room)
    agree(page)
    return page


def member_in(pages: Pages, room: str, agreed: bool = True) -> tuple[Page, str]:
    page = pages.open()
    enter_room(page, room)
    if agreed:
        page.get_by_role("button", name="I agree to the ground rules").click()
        page.wait_for_selector("#hand-toggle:visible")
    return page, page.locator("#my-handle").inner_text()


def participant(facilitator: Page, handle: str) -> Locator:
    """The facilitator's row for a participant."""
    return facilitator.locator("#participants .participant").filter(has_text=handle)


def test_listen_only_puts_the_composer_away_and_shows_listening(pages: Pages) -> None:
    facilitator = facilitator_in(pages, "general-check-in")
    member, handle = member_in(pages, "general-check-in")
    row = participant(facilitator, handle)
    expect(row).to_be_visible()
    expect(row.locator(".badge", has_text="Listening")).to_have_count(0)

    member.get_by_role("button", name="Just listen").click()
    wait_for_body(member, "data-listening", "true")
    expect(member.locator("#composer")).to_be_hidden()
    expect(member.get_by_role("button", name="Raise hand")).to_be_hidden()
    expect(member.locator("#listen-note")).to_contain_text("Nobody will call on you")
    expect(member.get_by_role("button", name="Talk", exact=True)).to_be_focused()
    expect(row.locator(".badge", has_text="Listening")).to_be_visible()
    # Others' messages still arrive while listening.
    note = unique("Glad to see you all")
    say(facilitator, note)
    seen(member, note)

    member.get_by_role("button", name="Talk", exact=True).click()
    wait_for_body(member, "data-listening", "false")
    expect(member.locator("#message-input")).to_be_focused()
    expect(row.locator(".badge", has_text="Listening")).to_have_count(0)
    back = unique("I think I'd like to share after all")
    say(member, back)
    seen(facilitator, back)


def test_one_at_a_time_room_waits_then_hands_and_turns(pages: Pages) -> None:
    room = "grief-and-loss"
    first, first_handle = member_in(pages, room)
    # No facilitator yet: the room waits and says when the next session is.
    waiting = first.locator('[data-key="waiting"]')
    expect(waiting).to_contain_text("opens when a facilitator is here")
    expect(waiting).to_contain_text(re.compile(r"next session is|session is scheduled now"))
    expect(first.locator("#message-input")).to_be_disabled()

    facilitator = facilitator_in(pages, room)
    expect(waiting).to_have_count(0)
    second, second_handle = member_in(pages, room)
    for page in (first, second):
        expect(page.locator("#turn-status")).to_contain_text("Raise your hand")
        expect(page.locator("#message-input")).to_be_disabled()
        wait_for_body(page, "data-composer", "closed")

    # Both raise their hands; each sees their place in line, the facilitator sees the queue.
    first.get_by_role("button", name="Raise hand").click()
    expect(first.locator("#hand-status")).to_have_text(re.compile("you are next in line"))
    second.get_by_role("button", name="Raise hand").click()
    expect(second.locator("#hand-status")).to_contain_text("number 2 in line")
    hands = facilitator.locator("#hands .hand")
    expect(hands).to_have_count(2)
    expect(hands.nth(0)).to_contain_text(first_handle)
    expect(hands.nth(1)).to_contain_text(second_handle)

    facilitator.get_by_role("button", name=f"Call on {first_handle}").click()
    expect(hands).to_have_count(1)
    expect(first.locator("#turn-status")).to_contain_text("your turn")
    expect(first.locator("#message-input")).to_be_enabled()
    expect(first.get_by_role("button", name="Raise hand")).to_be_visible()
    expect(second.locator("#turn-status")).to_contain_text(f"Now speaking: {first_handle}")
    expect(second.locator("#hand-status")).to_contain_text("next in line")
    expect(second.locator("#message-input")).to_be_disabled()
    expect(facilitator.locator("#turn-fac")).to_contain_text(first_handle)

    share = unique("It has been a year since my dad died")
    say(first, share)
    seen(second, share)
    seen(facilitator, share)
    expect(second.get_by_role("button", name="Send")).to_be_disabled()

    # The facilitator can lower a hand; the member lowers their own too.
    facilitator.get_by_role("button", name=f"Lower {second_handle}'s hand").click()
    expect(hands).to_have_count(0)
    expect(facilitator.locator("#hands-empty")).to_be_visible()
    expect(second.get_by_role("button", name="Raise hand")).to_be_visible()
    expect(second.locator("#hand-status")).to_have_text("")
    second.get_by_role("button", name="Raise hand").click()
    expect(hands).to_have_count(1)
    second.get_by_role("button", name="Lower hand").click()
    expect(hands).to_have_count(0)


def test_pause_steadies_the_room_and_resume_undoes_it(pages: Pages) -> None:
    facilitator = facilitator_in(pages, "anxiety")
    member, _ = member_in(pages, "anxiety")
    facilitator.get_by_role("button", name="Pause room").click()

    calm = member.locator("#messages .msg.announcement").filter(has_text="pause here")
    expect(calm).to_have_count(1)
    expect(calm.locator(".msg-badge")).to_have_text("Announcement")
    expect(member.locator('[data-key="paused"]')).to_contain_text("paused the room")
    expect(member.locator('[data-key="slow"]')).to_contain_text("30 seconds")
    expect(member.locator('[data-key="locked"]')).to_be_visible()
    expect(member.locator("#room-flags")).to_contain_text("Paused")
    expect(member.locator("#alerts")).to_contain_text("paused")
    # Members may still write, slowly: one message, then slow mode answers.
    first = unique("Taking a breath")
    say(member, first)
    member.locator("#message-input").fill(unique("And another thought"))
    member.locator("#message-input").press("Enter")
    expect(member.locator("#composer-status")).to_contain_text("Slow mode is on")

    facilitator.get_by_role("button", name="Resume room").click()
    expect(member.locator('[data-key="paused"]')).to_have_count(0)
    expect(member.locator('[data-key="slow"]')).to_have_count(0)
    expect(member.locator('[data-key="locked"]')).to_have_count(0)
    expect(
        member.locator("#messages .msg.announcement").filter(has_text="continuing")
    ).to_have_count(1)
    expect(facilitator.get_by_role("button", name="Pause room")).to_be_visible()


def test_content_warning_keeps_a_message_collapsed_until_opened(pages: Pages) -> None:
    writer, _ = member_in(pages, "bipolar")
    reader, _ = member_in(pages, "bipolar")
    toggle = writer.get_by_role("button", name="Add a content warning")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(writer.get_by_label("Content warning")).to_be_focused()
    writer.get_by_label("Content warning").fill("hospital stay")
    text = unique("I was in hospital for two weeks last spring")
    say(writer, text)
    # Sent once: the warning is cleared for the next message.
    expect(writer.locator("#cw-row")).to_be_hidden()

    item = message(reader, text)
    expect(item.locator(".cw-label")).to_have_text("Content warning: hospital stay")
    words = item.locator(".msg-text")
    expect(words).to_be_hidden()
    show = item.get_by_role("button", name="Show message")
    expect(show).to_have_attribute("aria-expanded", "false")
    expect(show).to_have_attribute("aria-controls", re.compile(r"^msg-\d+-text$"))
    show.click()
    expect(words).to_be_visible()
    hide = item.get_by_role("button", name="Hide message")
    expect(hide).to_have_attribute("aria-expanded", "true")
    hide.click()
    expect(words).to_be_hidden()


def test_contact_details_are_held_and_explained_only_to_the_writer(pages: Pages) -> None:
    writer, _ = member_in(pages, "recovery")
    reader, _ = member_in(pages, "recovery")
    text = unique("text me any time on 555-123-4567")
    writer.locator("#message-input").fill(text)
    writer.locator("#message-input").press("Enter")
    held = writer.locator('[data-key="held"]')
    expect(held).to_contain_text("wasn't shared")
    expect(held).to_contain_text("phone number")
    expect(held).to_contain_text("Only you can see this")
    expect(writer.locator("#message-input")).to_have_value(text)
    after = unique("Sorry, I forgot the rules")
    say(writer, after)
    seen(reader, after)
    expect(message(reader, text)).to_have_count(0)
    expect(reader.locator('[data-key="held"]')).to_have_count(0)


def test_a_private_conversation_is_seen_by_the_two_of_them_only(pages: Pages) -> None:
    facilitator = facilitator_in(pages, "chronic-illness")
    member, handle = member_in(pages, "chronic-illness")
    other, _ = member_in(pages, "chronic-illness")
    expect(participant(facilitator, handle)).to_be_visible()
    facilitator.get_by_role("button", name=f"Talk privately with {handle}").click()

    fac_thread = facilitator.get_by_role("region", name=f"Private conversation with {handle}")
    expect(fac_thread).to_be_visible()
    expect(fac_thread.get_by_role("textbox", name="Private message")).to_be_focused()
    thread = member.get_by_role("region", name="Private conversation with a facilitator")
    expect(thread).to_be_visible()
    expect(thread).to_contain_text("Only you and this room's facilitators")
    expect(thread.locator(".pt-support")).to_contain_text("988")
    expect(member.locator("#alerts")).to_contain_text("private conversation")
    # The crisis resources come inside the thread, not as the "your message" panel.
    expect(member.locator("#support")).to_be_hidden()

    ask = unique("I noticed you have been quiet. How are you doing?")
    fac_thread.get_by_role("textbox", name="Private message").fill(ask)
    fac_thread.get_by_role("textbox", name="Private message").press("Enter")
    expect(thread.locator(".msg-text").filter(has_text=ask)).to_be_visible()
    answer = unique("Thanks for asking, it's a hard week")
    thread.get_by_role("textbox", name="Private message").fill(answer)
    thread.get_by_role("button", name="Send privately").click()
    expect(fac_thread.locator(".msg-text").filter(has_text=answer)).to_be_visible()
    expect(thread.get_by_role("textbox", name="Private message")).to_have_value("")

    # Nobody else sees it, and it is not in the room's log.
    room_note = unique("Back in the main room")
    say(facilitator, room_note)
    seen(other, room_note)
    expect(other.locator(".private-thread")).to_have_count(0)
    expect(other.get_by_text(ask)).to_have_count(0)
    expect(other.get_by_text(answer)).to_have_count(0)
    expect(message(member, ask)).to_have_count(0)

    fac_thread.get_by_role("button", name="End private conversation").click()
    expect(thread).to_contain_text("ended this private conversation")
    expect(thread.get_by_role("textbox", name="Private message")).to_be_hidden()
    expect(fac_thread).to_contain_text("has ended")
    thread.get_by_role("button", name="Put away the ended private conversation").click()
    expect(member.locator(".private-thread")).to_have_count(0)
