"""The coordinator console (`#/console`) against the real admin API.

A coordinator signs in with a token from `peer-support coordinator-token`, invites a
facilitator for one room, and the sign-in link (`/#facilitator=<token>`) opened in another
browser makes that page a facilitator (the side panel in the room) and leaves the address bar
without the token. Revoking in the console ends the facilitator's standing on their open page.
Screenshots at phone and desktop sizes go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from server.tokens import TokenService
from tests.browser.conftest import (
    DESKTOP,
    SECRET,
    Pages,
    agree,
    enter_room,
    screenshot,
    unique,
    wait_for_body,
)

pytestmark = pytest.mark.browser

ROOM = "bipolar"
PHONE_360 = (360, 780)
REVOKED = "Your facilitator access has ended (revoked). You can stay in the room as a member."


def coordinator_token() -> str:
    """What `peer-support coordinator-token --name Kim --hours 1` prints for the tests' key."""
    return TokenService((SECRET,), 3600).issue_coordinator("Kim", 1)


def console_sign_in(page: Page, token: str) -> None:
    page.goto("/#/console")
    page.get_by_label("Coordinator token").fill(token)
    page.get_by_role("button", name="Sign in to the console").click()
    expect(page.locator("#console-signed-in")).to_be_visible()


def invite(page: Page, name: str, room_name: str) -> str:
    """Invite `name` for one room, for 2 hours; the sign-in link the console shows."""
    page.get_by_label("Name they go by in rooms").fill(name)
    page.get_by_label(room_name, exact=True).check()
    expect(page.get_by_label("Only the rooms ticked below")).to_be_checked()
    page.get_by_label("Length of access").fill("2")
    page.get_by_label("Hours or days").select_option("hours")
    page.get_by_role("button", name="Make a sign-in link").click()
    link = page.get_by_label(re.compile("^Sign-in link"))
    expect(link).to_have_value(re.compile(r"/#facilitator=\S+$"))
    expect(page.locator("#console-status")).to_contain_text(f"Sign-in link made for {name}")
    return link.input_value()


def test_invite_link_signs_in_and_revoke_ends_facilitating(pages: Pages) -> None:
    # Chromium logs the refused sign-in below (401) as a failed resource load; nothing else may.
    pages.allowed.append(re.compile(r"status of 401 \(Unauthorized\)"))
    console = pages.open("/#/console")
    expect(console.get_by_role("heading", name="Coordinator console")).to_be_visible()
    # A token that is not a coordinator's is refused in plain words and not kept.
    console.get_by_label("Coordinator token").fill("not-a-token")
    console.get_by_role("button", name="Sign in to the console").click()
    expect(console.locator("#console-status")).to_contain_text(
        "You are not signed in. The coordinator token was not accepted"
    )
    assert console.evaluate("sessionStorage.getItem('psc.coordinator-token')") is None

    console_sign_in(console, coordinator_token())
    room_name = console.evaluate(
        "async (id) => (await (await fetch('/api/rooms')).json()).find((r) => r.id === id).name",
        ROOM,
    )
    name = unique("Robin")[:40]
    link = invite(console, name, room_name)
    parts = urlsplit(link)
    assert parts.path == "/" and parts.query == "", link
    row = console.locator(".console-fac").filter(has=console.get_by_role("heading", name=name))
    expect(row).to_contain_text(room_name)
    expect(row.locator(".fac-status")).to_have_text("Not online")

    # The link, opened in another browser: a facilitator, with the token out of the address bar.
    facilitator = pages.open(link[len(f"{parts.scheme}://{parts.netloc}") :])
    wait_for_body(facilitator, "data-role", "facilitator")
    assert "facilitator=" not in facilitator.url
    assert facilitator.evaluate("location.hash") == ""
    assert facilitator.evaluate("sessionStorage.getItem('psc.facilitator-token')")
    enter_room(facilitator, ROOM)
    agree(facilitator)
    expect(facilitator.locator("#fac-panel")).to_be_visible()
    expect(row.locator(".fac-status")).to_have_text("Online")  # the console's refresh

    phone = pages.open("/#/console", size=PHONE_360)
    console_sign_in(phone, coordinator_token())
    expect(phone.locator(".console-fac").first).to_be_visible()
    screenshot(phone, "console-phone-360")
    screenshot(console, "console-desktop")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_360[0], f"the console scrolls sideways at 360 px: {width}"

    # Revoke: asked once (Cancel first), then done.
    revoke = row.get_by_role("button", name=f"Revoke {name}")
    revoke.click()
    dialog = console.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(name)
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(row.locator(".fac-status")).to_have_text("Online")
    revoke.click()
    dialog.get_by_role("button", name="Revoke access").click()
    expect(console.locator("#console-status")).to_have_text(f"{name}'s access is revoked.")
    expect(row.locator(".fac-status")).to_have_text("Revoked")
    expect(revoke).to_be_hidden()

    wait_for_body(facilitator, "data-role", "member")
    expect(facilitator.locator("#alerts")).to_have_text(REVOKED)
    expect(facilitator.locator("#fac-panel")).to_be_hidden()
    screenshot(facilitator, "console-revoked-facilitator")

    # Sign out forgets the coordinator token in this tab.
    console.get_by_role("button", name="Sign out").click()
    expect(console.get_by_label("Coordinator token")).to_be_visible()
    assert console.evaluate("sessionStorage.getItem('psc.coordinator-token')") is None


def test_invite_refusals_are_sentences(pages: Pages) -> None:
    # Chromium logs the server's refusal below (400) as a failed resource load.
    pages.allowed.append(re.compile(r"status of 400 \(Bad Request\)"))
    console = pages.open("/#/console", size=DESKTOP)
    console_sign_in(console, coordinator_token())
    console.get_by_role("button", name="Make a sign-in link").click()
    problem = console.locator("#invite-problem")
    expect(problem).to_have_text("Give the facilitator's name.")
    console.get_by_label("Name they go by in rooms").fill("Alex")
    console.get_by_label("Only the rooms ticked below").check()
    console.get_by_role("button", name="Make a sign-in link").click()
    expect(problem).to_have_text("Tick at least one room, or choose all rooms.")
    console.get_by_label("All rooms").check()
    console.get_by_label("Length of access").fill("91")
    console.get_by_role("button", name="Make a sign-in link").click()
    expect(problem).to_have_text("Give a time of at least one hour and at most 90 days.")
    # A name the server refuses (over 40 characters): its reason, never its JSON.
    console.get_by_label("Name they go by in rooms").evaluate(
        "(e) => e.removeAttribute('maxlength')"
    )
    console.get_by_label("Name they go by in rooms").fill("A" * 41)
    console.get_by_label("Length of access").fill("3")
    console.get_by_role("button", name="Make a sign-in link").click()
    expect(problem).to_have_text(
        "Nobody was invited. That was not accepted: name must be 1 to 40 characters."
    )
    expect(console.locator("#invite-result")).to_be_hidden()
