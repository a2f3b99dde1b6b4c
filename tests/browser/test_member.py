"""A member's way through the web client, in real headless Chromium against a real server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    PHONE,
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

pytestmark = pytest.mark.browser


def test_two_members_chat_in_real_time(pages: Pages) -> None:
    alex, blair = pages.open(), pages.open()
    for page in (alex, blair):
        enter_room(page, "general-check-in")
        agree(page)
    first = unique("Hi, first time here")
    say(alex, first)
    seen(blair, first)
    reply = unique("Welcome, glad you came")
    say(blair, reply)
    seen(alex, reply)

    # Each sees the other's handle, a time, and their own messages marked as theirs.
    alex_handle = alex.locator("#my-handle").inner_text()
    assert alex_handle
    from_alex = message(blair, first)
    expect(from_alex.locator(".msg-handle")).to_have_text(alex_handle)
    expect(from_alex.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(message(alex, first).locator(".msg-handle")).to_have_text(f"{alex_handle} (you)")
    expect(alex.locator("#room-members")).to_have_text(re.compile(r"^[2-9]\d* here$"))


def test_a_member_can_read_at_once_but_must_agree_before_writing(pages: Pages) -> None:
    speaker = pages.open()
    enter_room(speaker, "anxiety")
    agree(speaker)
    earlier = unique("What helps me is a slow walk")
    say(speaker, earlier)

    newcomer = pages.open()
    enter_room(newcomer, "anxiety")
    # Listen first: the rules and the conversation are there before agreeing.
    expect(newcomer.get_by_role("heading", name="Ground rules")).to_be_visible()
    expect(newcomer.locator("#rules-list li").first).to_be_visible()
    seen(newcomer, earlier)
    expect(newcomer.locator("#message-input")).to_be_disabled()
    expect(newcomer.get_by_role("button", name="Send")).to_be_disabled()
    wait_for_body(newcomer, "data-composer", "closed")
    # Typing goes nowhere.
    newcomer.locator("#messages").click()
    newcomer.keyboard.type("hello")
    expect(newcomer.locator("#message-input")).to_have_value("")

    agree(newcomer)
    expect(newcomer.locator("#rules")).to_be_hidden()
    # The rules can be read again at any time.
    reread = newcomer.get_by_role("button", name="Ground rules")
    reread.click()
    expect(newcomer.locator("#rules-list")).to_be_visible()
    expect(reread).to_have_attribute("aria-expanded", "true")
    expect(newcomer.get_by_role("button", name="I agree to the ground rules")).to_be_hidden()
    reread.click()
    expect(newcomer.locator("#rules")).to_be_hidden()
    later = unique("Thanks for having me")
    say(newcomer, later)
    seen(speaker, later)


def test_markup_in_a_message_shows_as_text_and_runs_nothing(pages: Pages) -> None:
    writer, reader = pages.open(), pages.open()
    for page in (writer, reader):
        enter_room(page, "chronic-illness")
        agree(page)
    attack = "<img src=x onerror=alert(1)>"
    heart = "<3"
    say(writer, attack)
    say(writer, heart)
    for page in (writer, reader):
        expect(message(page, attack)).to_have_count(1)
        expect(message(page, heart)).to_have_count(1)
        assert page.locator("#messages img").count() == 0
        assert page.locator("#messages .msg-text").last.inner_text() == heart
    assert pages.dialogs == []


def test_a_reload_keeps_the_same_member_and_agreement(pages: Pages) -> None:
    page = pages.open()
    enter_room(page, "general-check-in")
    agree(page)
    handle = page.locator("#my-handle").inner_text()
    token = page.evaluate("localStorage.getItem('psc.member-token')")
    assert token
    page.reload()
    wait_for_body(page, "data-room-state", "joined")
    expect(page.locator("#my-handle")).to_have_text(handle)
    expect(page.locator("#message-input")).to_be_enabled()
    # The server remembers the agreement (`joined.agreed`): even without this tab's own record
    # the rules are not asked again, and the page does not send `agree` by itself.
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda data: sent.append(str(data))))
    page.evaluate("sessionStorage.clear()")
    page.reload()
    wait_for_body(page, "data-room-state", "joined")
    expect(page.locator("#message-input")).to_be_enabled()
    expect(page.locator("#rules")).to_be_hidden()
    assert any('"type":"join"' in f for f in sent), sent
    assert not any('"type":"agree"' in f for f in sent), sent
    again = unique("Still me after a reload")
    say(page, again)
    expect(message(page, again).locator(".msg-handle")).to_have_text(f"{handle} (you)")


def test_a_refused_token_is_dropped_for_a_new_member(pages: Pages) -> None:
    page = pages.open()
    page.evaluate("localStorage.setItem('psc.member-token', 'forged.token.value')")
    page.reload()
    wait_for_body(page, "data-state", "connected")
    token = page.evaluate("localStorage.getItem('psc.member-token')")
    assert token and token != "forged.token.value"
    enter_room(page, "general-check-in")


def test_directory_search_categories_and_live_counts(pages: Pages) -> None:
    page = pages.open()
    wait_for_body(page, "data-rooms", "loaded")
    cards = page.locator("#rooms .room-card")
    expect(cards).to_have_count(8)
    expect(page.get_by_role("heading", name="This is not")).to_be_visible()

    page.get_by_label("Search rooms").fill("grief")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Grief and loss circle")
    page.get_by_label("Search rooms").fill("")
    expect(cards).to_have_count(8)

    page.locator("#categories label").filter(has_text="Caregivers").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Caregivers' corner")

    # A member arrives; the directory's count follows (it polls, and refreshes on any filter).
    visitor = pages.open()
    enter_room(visitor, "caregivers")
    page.locator("#categories label").filter(has_text="All").click()
    caregivers = page.locator('#rooms [data-room="caregivers"]')
    expect(caregivers.locator(".count")).to_have_text(re.compile(r"^[1-9]\d* here$"))
    # Rooms that open only with a facilitator say so.
    expect(page.locator('#rooms [data-room="depression"]')).to_contain_text(
        "Opens with a facilitator"
    )


def test_crisis_resources_are_one_tap_away_on_every_screen(pages: Pages) -> None:
    page = pages.open(size=PHONE)
    for where in ("/#/", "/#/room/general-check-in"):
        page.goto(where)
        page.get_by_role("button", name="Need help now?").click()
        dialog = page.get_by_role("dialog", name="Get help now")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("link", name="988").first).to_have_attribute("href", "tel:988")
        expect(dialog.get_by_role("link", name="findahelpline.com")).to_be_visible()
        expect(dialog).to_contain_text("local emergency number")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()


def _tab_to(page: Page, selector: str, presses: int = 60) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"keyboard focus never reached {selector}")


def test_keyboard_only(pages: Pages) -> None:
    page = pages.open()
    wait_for_body(page, "data-rooms", "loaded")
    _tab_to(page, '#rooms a[href="#/room/recovery"]')
    page.keyboard.press("Enter")
    wait_for_body(page, "data-room-state", "joined")
    _tab_to(page, "#agree")
    page.keyboard.press("Enter")
    expect(page.locator("#message-input")).to_be_focused()
    text = unique("Typed without a mouse")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    seen(page, text)
    # The log is announced politely; history is not re-read when it is put in.
    log = page.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    # The crisis dialog opens and closes from the keyboard, focus comes back.
    _tab_to(page, "#help-open")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Get help now")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help-open")).to_be_focused()


def test_phone_width_has_no_sideways_scrolling(pages: Pages) -> None:
    page = pages.open(size=(360, 740))
    wait_for_body(page, "data-rooms", "loaded")
    enter_room(page, "general-check-in")
    agree(page)
    say(page, unique("a-very-long-word-" * 8))
    for where in ("/#/", "/#/room/general-check-in"):
        page.goto(where)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{where} is {width}px wide at 360px"


def test_a_facilitator_signs_in_with_a_pasted_token(pages: Pages) -> None:
    member = pages.open()
    enter_room(member, "bipolar")
    agree(member)
    facilitator = pages.open()
    sign_in_as_facilitator(facilitator, facilitator_token("Sam"))
    enter_room(facilitator, "bipolar")
    expect(facilitator.get_by_role("complementary", name="Facilitator")).to_be_visible()
    member_handle = member.locator("#my-handle").inner_text()
    panel = facilitator.locator("#participants")
    expect(panel.locator(".participant").filter(has_text=member_handle)).to_be_visible()
    expect(
        facilitator.get_by_role("button", name=f"Mute {member_handle}", exact=True)
    ).to_be_visible()
    # The token lives in sessionStorage only.
    assert facilitator.evaluate("sessionStorage.getItem('psc.facilitator-token')")
    assert facilitator.evaluate("localStorage.getItem('psc.facilitator-token')") is None

    # Members see that a facilitator is here and which messages are theirs.
    expect(member.locator("#room-flags")).to_contain_text("Facilitator here")
    agree(facilitator)
    welcome = unique("Welcome everyone, I am facilitating tonight")
    say(facilitator, welcome)
    expect(message(member, welcome).locator(".msg-badge")).to_have_text("Facilitator")
    expect(message(member, welcome).locator(".msg-handle")).to_have_text("Sam")
    # Members report; facilitators flag and delete.
    expect(
        message(member, welcome).get_by_role("button", name="Report message from Sam")
    ).to_be_visible()
    expect(
        message(facilitator, welcome).get_by_role("button", name="Delete message from Sam")
    ).to_be_visible()


def test_a_refused_facilitator_token_leaves_a_member(pages: Pages) -> None:
    page = pages.open()
    page.locator("#fac-details summary").click()
    page.get_by_label("Facilitator token").fill("not-a-real-token")
    page.get_by_role("button", name="Sign in as facilitator").click()
    expect(page.locator("#fac-problem")).to_contain_text("not accepted")
    wait_for_body(page, "data-state", "connected")
    wait_for_body(page, "data-role", "member")
    assert page.evaluate("sessionStorage.getItem('psc.facilitator-token')") is None


def test_coming_back_to_a_room_shows_its_conversation_again(pages: Pages) -> None:
    page = pages.open()
    enter_room(page, "chronic-illness")
    agree(page)
    text = unique("said before leaving")
    say(page, text)
    page.goto("/#/")
    wait_for_body(page, "data-room-state", "none")
    enter_room(page, "chronic-illness")
    # The room is drawn anew: what was said before is there again, not only what came since.
    seen(page, text)
