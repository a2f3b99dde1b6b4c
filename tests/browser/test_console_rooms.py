"""The coordinator console's rooms, queue and record, against the real admin API and members.

A room created in the console appears in a member's directory that is already open, without a
reload; editing its rules in the console makes a member inside see the new rules and agree
again before writing; archiving it takes the member back to the directory with a word why. A
crisis alert raised in a room shows in the console's queue across rooms, first, and is said
once. Screenshots at 360 px and desktop go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DESKTOP,
    Pages,
    agree,
    own_server,
    say,
    screenshot,
    unique,
    wait_for_body,
    wire_client,
)
from tests.browser.test_console import PHONE_360, console_sign_in, coordinator_token
from tests.support import ServerProcess, timeout

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """This module's own server: it creates and archives rooms, which every page of a shared
    server would see in its directory."""
    yield from own_server(tmp_path_factory, "console-rooms-server")


# The directory asks for the rooms every 10 s: a new room is there within one round.
DIRECTORY_MS = timeout(15) * 1000
CLOSED = "This room has been closed by the organisers."


def admin(server: ServerProcess, method: str, path: str, body: Any = None) -> Any:
    """One admin API call from outside the browser, as a coordinator."""
    request = urllib.request.Request(
        f"{server.http}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {coordinator_token()}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=timeout(5)) as answer:
        raw = answer.read()
    return json.loads(raw) if raw else None


def new_room_id() -> str:
    return f"calm-{uuid.uuid4().hex[:8]}"


def focused(page: Page) -> str:
    """What has the focus: its accessible name as Playwright would find it (id or text)."""
    return str(
        page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.getAttribute('aria-label') || e.id || e.textContent.trim(); }"
        )
    )


def fill_new_room(console: Page, room_id: str, name: str) -> None:
    """The form filled as a coordinator would, by the labels a screen reader reads."""
    console.get_by_role("button", name="New room").click()
    expect(console.get_by_role("heading", name="New room")).to_be_focused()
    console.get_by_label("Name", exact=True).fill(name)
    # The id follows the name until it is typed.
    expect(console.get_by_label("Room id")).to_have_value(re.compile(r"^evening-calm-"))
    console.get_by_label("Room id").fill(room_id)
    console.get_by_label("Category").fill("Anxiety")
    console.get_by_label("Description").fill("A quiet evening group.")
    console.get_by_label("Members at once").fill("12")
    console.get_by_label("Rule 1", exact=True).fill("Be kind.")
    console.get_by_role("button", name="Add a rule").click()
    expect(console.get_by_label("Rule 2", exact=True)).to_be_focused()
    console.get_by_label("Rule 2", exact=True).fill("Stay anonymous.")
    console.get_by_role("button", name="Move rule 2 up").click()
    expect(console.get_by_label("Rule 1", exact=True)).to_have_value("Stay anonymous.")
    expect(console.get_by_role("button", name="Move rule 1 down")).to_be_focused()
    console.get_by_role("button", name="Add a session").click()
    session = console.get_by_role("group", name="Session 1")
    expect(session.get_by_label("Day")).to_be_focused()
    session.get_by_label("Day").select_option("Tue")
    session.get_by_label("Starts at").fill("19:30")
    session.get_by_label("Minutes").fill("90")
    session.get_by_label("Time zone").select_option("Europe/Madrid")


def test_rooms_created_edited_and_archived_reach_members_live(
    pages: Pages, app_server: ServerProcess
) -> None:
    member = pages.open("/")
    wait_for_body(member, "data-rooms", "loaded")
    console = pages.open("/#/console")
    console_sign_in(console, coordinator_token())
    room_id = new_room_id()
    name = unique("Evening calm")

    # A refusal comes back next to the form in a sentence; nothing is created.
    console.get_by_role("button", name="New room").click()
    console.get_by_role("button", name="Create room").click()
    problem = console.locator("#room-form-problem")
    expect(problem).to_contain_text("Check these")
    expect(problem).to_contain_text("Give a name of at most 80 characters.")
    expect(console.get_by_label("Room id")).to_be_focused()
    expect(console.get_by_label("Room id")).to_have_attribute("aria-invalid", "true")
    console.get_by_role("button", name="Cancel").click()
    expect(console.get_by_role("button", name="New room")).to_be_focused()

    fill_new_room(console, room_id, name)
    console.get_by_role("button", name="Create room").click()
    expect(console.locator("#admin-rooms-status")).to_have_text(
        f"{name} is created. Members see it in the directory now."
    )
    row = console.locator(f'#admin-rooms li[data-room="{room_id}"]')
    expect(row.get_by_role("heading", name=name)).to_be_focused()
    expect(row).to_contain_text("Tuesdays at 19:30 for 1 hour 30 minutes (Europe/Madrid time)")
    expect(row).to_contain_text("up to 12 members · 2 ground rules (version 1)")

    # The member's directory, open all along, shows it without a reload.
    card = member.locator(f'#rooms li[data-room="{room_id}"]')
    expect(card).to_be_visible(timeout=DIRECTORY_MS)
    expect(card).to_contain_text("A quiet evening group.")
    card.get_by_role("link", name=name).click()
    wait_for_body(member, "data-room-state", "joined")
    expect(member.locator("#rules-list li")).to_have_text(["Stay anonymous.", "Be kind."])
    agree(member)
    say(member, unique("first words"))

    # Edit: a new name and a changed rule; the form warns what new rules mean.
    row.get_by_role("button", name=f"Edit {name}").click()
    expect(console.get_by_role("heading", name=f"Edit: {name}")).to_be_focused()
    expect(console.get_by_label("Room id")).to_be_hidden()
    warning = console.locator("#room-rules-warning")
    expect(warning).to_be_hidden()
    console.get_by_label("Rule 2", exact=True).fill("Be kind, always.")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("cannot write until they agree again")
    renamed = f"{name} (Tuesdays)"
    console.get_by_label("Name", exact=True).fill(renamed)
    console.get_by_role("button", name="Save changes").click()
    expect(console.locator("#admin-rooms-status")).to_have_text(
        f"Changes to {renamed} are saved. Everyone in the room is asked to agree to the new "
        "ground rules before writing again."
    )
    expect(row).to_contain_text("2 ground rules (version 2)")
    expect(row.get_by_role("heading", name=renamed)).to_be_focused()

    # The member inside: the new name and rules, and writing waits for agreeing again.
    expect(member.locator("#room-title")).to_have_text(renamed)
    expect(member.locator("#rules-list li")).to_have_text(["Stay anonymous.", "Be kind, always."])
    expect(member.locator("#rules")).to_be_visible()
    expect(member.locator("#message-input")).to_be_disabled()
    expect(member.locator("#room-notices")).to_contain_text("The ground rules have changed")
    expect(member.locator("#alerts")).to_have_text("The ground rules have changed.")
    agree(member)
    say(member, unique("agreed again"))

    # Only the changed fields were sent (the record names the fields given).
    audit = console.locator("#admin-audit")
    expect(audit.locator("li").first).to_contain_text(
        f"edited the room {renamed}: name, rules. Members agree again to rules version 2."
    )

    # Archive: asked once (Cancel first), then done; the member is taken out and told why.
    archive = row.get_by_role("button", name=f"Archive {renamed}")
    archive.click()
    dialog = console.locator("#confirm-dialog")
    expect(dialog).to_contain_text(f"Its id, {room_id}, can never be used again.")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(row).to_be_visible()
    archive.click()
    dialog.get_by_role("button", name="Archive room").click()
    expect(console.locator("#admin-rooms-status")).to_have_text(f"{renamed} is archived.")
    expect(row).to_have_count(0)
    expect(audit.locator("li").first).to_contain_text(f"archived the room {room_id}")

    wait_for_body(member, "data-view", "home")
    notice = member.locator("#home-notice")
    expect(notice).to_contain_text(CLOSED)
    expect(notice).to_be_focused()
    expect(member.locator("#view-room")).to_be_hidden()
    wait_for_body(member, "data-rooms", "loaded")
    expect(member.locator(f'#rooms li[data-room="{room_id}"]')).to_have_count(0)
    screenshot(member, "console-room-closed-member")
    notice.get_by_role("button", name="Dismiss this notice").click()
    expect(notice).to_be_hidden()

    # The id of an archived room is never used again: said next to the form.
    pages.allowed.append(re.compile(r"status of 409 \(Conflict\)"))
    fill_new_room(console, room_id, unique("Evening calm"))
    console.get_by_role("button", name="Create room").click()
    expect(problem).to_have_text(
        "The room was not created. That was not done: that id belonged to an archived room."
    )
    expect(problem).to_be_focused()


def test_queue_across_rooms_and_screenshots(pages: Pages, app_server: ServerProcess) -> None:
    room_id = new_room_id()
    name = unique("Evening calm")
    admin(app_server, "POST", "/api/admin/rooms", {
        "id": room_id, "name": name, "category": "Anxiety", "description": "Evenings.",
        "rules": ["Be kind."],
        "sessions": [{"day": "Thu", "start": "20:00", "minutes": 60, "timezone": "UTC"}],
    })  # fmt: skip
    console = pages.open("/#/console", size=DESKTOP)
    console_sign_in(console, coordinator_token())
    expect(console.get_by_role("heading", name="Waiting across rooms")).to_be_focused()
    expect(console.locator("#admin-queue-summary")).not_to_have_text("")
    # The reader is somewhere else on the page: a refresh takes neither focus nor place.
    console.get_by_role("button", name="New room").focus()

    queue = console.locator(f'#admin-queue li[data-key^="{room_id}/"]')
    with wire_client(app_server.ws) as writer, wire_client(app_server.ws) as reporter:
        writer.enter(room_id)
        reporter.enter(room_id)
        sent = writer.say(room_id, unique("a hard week"))
        reporter.send({"type": "report", "room": room_id, "message_id": sent["id"],
                       "reason": "spam or off topic", "ref": "r"})  # fmt: skip
        reporter.expect("ack", ref="r")
        expect(queue).to_have_count(1)
        expect(queue.first).to_contain_text(f"Report in {name}")
        expect(queue.first).to_contain_text("Note: spam or off topic")
        writer.say(room_id, unique("Honestly some nights I want to die"))
        expect(queue).to_have_count(2)

    # Crisis alerts first, set apart by words and a sign, not colour alone; said once, politely.
    alert = queue.first
    expect(alert).to_have_class(re.compile(r"\balert\b"))
    expect(alert.locator(".admin-item-kind")).to_have_text("Crisis alert")
    expect(alert).to_contain_text(f"in {name}")
    expect(alert.locator(".admin-item-age")).to_have_text(re.compile(r"^(just now|\d+ min ago)$"))
    expect(console.locator("#admin-queue-live")).to_have_text(f"New crisis alert in {name}.")
    alerts = console.locator("#admin-queue li.alert")
    expect(console.locator("#admin-queue li").first).to_have_class(re.compile(r"\balert\b"))
    assert alerts.count() >= 1
    assert focused(console) == "room-new"
    expect(console.locator("#admin-queue-summary")).to_contain_text("crisis alert")

    # Pictures: the queue and rooms on a desktop, the room form on a phone 360 px wide.
    expect(console.locator(f'#admin-rooms li[data-room="{room_id}"]')).to_be_visible()
    screenshot(console, "console-rooms-queue-desktop")
    phone = pages.open("/#/console", size=PHONE_360)
    console_sign_in(phone, coordinator_token())
    expect(phone.locator(f'#admin-queue li[data-key^="{room_id}/"]')).to_have_count(2)
    phone.get_by_role("button", name=f"Edit {name}").click()
    expect(phone.get_by_role("group", name="Session 1").get_by_label("Time zone")).to_have_value(
        "UTC"
    )
    phone.get_by_role("button", name="Add a session").click()
    # A new session starts in the browser's own time zone.
    browser_zone = phone.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    expect(phone.get_by_role("group", name="Session 2").get_by_label("Time zone")).to_have_value(
        browser_zone
    )
    screenshot(phone, "console-room-form-phone-360")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_360[0], f"the console scrolls sideways at 360 px: {width}"
    # Nothing changed but an empty session added and removed: nothing to send.
    phone.get_by_role("button", name="Remove session 2").click()
    expect(phone.get_by_role("group", name="Session 1").get_by_label("Day")).to_be_focused()
    phone.get_by_role("button", name="Save changes").click()
    expect(phone.locator("#room-form-problem")).to_have_text("Nothing has changed yet.")

    # A coordinator closes the report: it leaves the queue, the crisis alert stays.
    console.get_by_role("button", name=f"Mark this report in {name} as handled").click()
    expect(queue).to_have_count(1)
    expect(queue.first.locator(".admin-item-kind")).to_have_text("Crisis alert")
    expect(console.locator("#admin-queue-live")).to_have_text(
        "Marked as handled. The room's facilitators are told."
    )
    expect(console.get_by_role("heading", name="Waiting across rooms")).to_be_focused()
