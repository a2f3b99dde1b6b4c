"""Check-in and check-out in the browser, on a server of this module's own (Redis, so weeks
of earlier sessions can be put in place through the broker):

- the prompt at 360 px, answered and skipped with the keyboard only, never in the way of
  writing, asked again at "All rooms" and when the session ends; the facilitator's counts;
- the coordinator console's outcomes: the chart (an SVG image with a name and a description)
  and its table, at desktop and 360 px.

Screenshots go to test-artifacts/screenshots/ (mood-*, outcomes-*).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from rooms.ids import RoomId
from server.brokers import MoodAnswer, open_broker
from tests.browser.conftest import (
    DESKTOP,
    Pages,
    WireClient,
    agree,
    enter_room,
    facilitator_token,
    say,
    screenshot,
    server_env,
    unique,
    wait_for_body,
    wire_client,
)
from tests.browser.test_console import console_sign_in, coordinator_token
from tests.browser.test_member import _tab_to
from tests.support import RedisServer, ServerProcess

pytestmark = pytest.mark.browser

PHONE_360 = (360, 780)
ROOM = "depression"  # requires a facilitator: one is present in these tests
HISTORY_ROOM = "caregivers"  # weeks of earlier sessions, for the outcomes chart
WEEK_MS = 7 * 86400 * 1000
PREFIX: dict[str, str] = {}


@pytest.fixture(scope="module")
def app_server(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[ServerProcess]:
    """A server of its own on Redis: the outcomes chart shows only this module's sessions."""
    workdir: Path = tmp_path_factory.mktemp("mood-server")
    env = server_env(workdir, redis_server.url)
    PREFIX["url"], PREFIX["prefix"] = redis_server.url, env["REDIS_PREFIX"]
    server = ServerProcess(env, workdir / "server.log")
    server.start()
    yield server
    server.stop()


def facilitator_in(ws: WireClient, room: str) -> None:
    ws.send({"type": "hello", "facilitator_token": facilitator_token("Sam")})
    ws.expect("welcome")
    ws.send({"type": "join", "room": room, "ref": "j"})
    ws.expect("joined", ref="j")


def answer(ws: WireClient, room: str, value: int, when: str) -> None:
    ref = f"m{value}{when}{time.monotonic_ns()}"
    ws.send({"type": "mood", "room": room, "value": value, "when": when, "ref": ref})
    ws.expect("ack", ref=ref)


def summary(ws: WireClient, room: str) -> dict[str, Any]:
    ref = f"s{time.monotonic_ns()}"
    ws.send({"type": "mood_summary", "room": room, "ref": ref})
    return ws.expect("mood_summary", ref=ref)


def test_the_prompt_with_a_keyboard_at_360_px(pages: Pages, app_server: ServerProcess) -> None:
    with (
        wire_client(app_server.ws) as fac,
        wire_client(app_server.ws) as m1,
        wire_client(app_server.ws) as m2,
        wire_client(app_server.ws) as m3,
        wire_client(app_server.ws) as m4,
    ):
        facilitator_in(fac, ROOM)
        page = pages.open(size=PHONE_360)
        enter_room(page, ROOM)
        prompt = page.get_by_role("region", name="How are you feeling right now?")
        expect(prompt).to_be_visible()
        faces = prompt.get_by_role("group", name="How are you feeling right now?")
        for label in ("Very low", "Low", "Okay", "Good", "Very good"):
            expect(faces.get_by_role("button", name=label, exact=True)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_360[0], (
            f"the room scrolls sideways at 360 px with the prompt: {width}"
        )
        for box in (faces.get_by_role("button").nth(i).bounding_box() for i in range(5)):
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_360[0]
            assert box["height"] >= 44  # a comfortable target on a phone
        screenshot(page, "mood-prompt-360")

        # Never in the way: the rules are agreed and a message sent while it is open.
        agree(page)
        say(page, unique("Still here, still writing"))
        expect(prompt).to_be_visible()

        # The keyboard only: Tab into the faces, arrows along them, Enter to answer.
        _tab_to(page, ".mood-face")
        expect(faces.get_by_role("button", name="Very low")).to_be_focused()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        expect(faces.get_by_role("button", name="Good", exact=True)).to_be_focused()
        page.keyboard.press("Home")
        expect(faces.get_by_role("button", name="Very low")).to_be_focused()
        page.keyboard.press("End")
        page.keyboard.press("ArrowLeft")
        expect(faces.get_by_role("button", name="Good", exact=True)).to_be_focused()
        page.keyboard.press("Enter")
        expect(prompt).to_be_hidden()
        expect(page.locator("#alerts")).to_have_text(
            "Thank you. Your answer is counted without your name."
        )
        expect(page.locator("#message-input")).to_be_focused()  # on to writing
        # Counted, and only counted: four more answers make five, and the counts show.
        for ws, value in ((m1, 1), (m2, 2), (m3, 4), (m4, 5)):
            ws.enter(ROOM)
            answer(ws, ROOM, value, "start")
        assert summary(fac, ROOM)["start"] == [1, 1, 0, 2, 1]
        # Asked once per session: a reload does not ask again.
        page.reload()
        wait_for_body(page, "data-room-state", "joined")
        expect(page.locator("#mood")).to_be_hidden()

        # "All rooms" asks the check-out of someone who answered the check-in.
        page.get_by_role("link", name="← All rooms").focus()
        page.keyboard.press("Enter")
        leaving = page.get_by_role("region", name="Before you go: how are you feeling right now?")
        expect(leaving).to_be_visible()
        expect(page.locator("#mood-question")).to_be_focused()
        assert page.evaluate("location.hash") == f"#/room/{ROOM}"
        screenshot(page, "mood-leave-360")
        _tab_to(page, ".mood-face")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")  # very good, and on to the rooms
        wait_for_body(page, "data-view", "home")
        for ws, value in ((m1, 2), (m2, 3), (m3, 5), (m4, 5)):
            answer(ws, ROOM, value, "end")
        assert summary(fac, ROOM)["end"] == [0, 1, 1, 0, 3]

        # Skipped with the keyboard: gone, and not asked again in this session.
        other = pages.open(size=PHONE_360)
        enter_room(other, ROOM)
        expect(other.locator("#mood")).to_be_visible()
        _tab_to(other, ".mood-skip")
        other.keyboard.press("Enter")
        expect(other.locator("#mood")).to_be_hidden()
        other.reload()
        wait_for_body(other, "data-room-state", "joined")
        expect(other.locator("#mood")).to_be_hidden()
        # Leaving after a skipped check-in is not held up by a question.
        other.get_by_role("link", name="← All rooms").click()
        wait_for_body(other, "data-view", "home")

        # The session ends: someone still in the room is asked how they feel now, for the
        # session that ended.
        stays = pages.open(size=PHONE_360)
        enter_room(stays, ROOM)
        stays.get_by_role("button", name="Skip", exact=True).click()
        fac.send({"type": "end_session", "room": ROOM, "ref": "end"})
        ended = fac.expect("mood_summary")
        assert ended["start"] == [1, 1, 0, 2, 1] and ended["end"] == [0, 1, 1, 0, 3]
        fac.expect("ack", ref="end")
        ask = stays.get_by_role("region", name="The session has ended. How are you feeling now?")
        expect(ask).to_be_visible()
        screenshot(stays, "mood-session-ended-360")
        ask.get_by_role("button", name="Okay").click()
        expect(ask).to_be_hidden()
        expect(stays.locator("#alerts")).to_have_text(
            "Thank you. Your answer is counted without your name."
        )
        # The tab keeps that it asked, never the answer.
        kept = stays.evaluate(
            "Object.keys(sessionStorage).filter((k) => k.startsWith('psc.mood.'))"
            ".map((k) => sessionStorage.getItem(k))"
        )
        assert sorted(kept) == ["answered", "skipped"]


def test_the_facilitator_sees_counts_only(pages: Pages, app_server: ServerProcess) -> None:
    room = "recovery"
    page = pages.open(size=DESKTOP)
    page.goto("/#/")
    page.locator("#fac-details summary").click()
    page.get_by_label("Facilitator token").fill(facilitator_token("Ana"))
    page.get_by_role("button", name="Sign in as facilitator").click()
    wait_for_body(page, "data-role", "facilitator")
    wait_for_body(page, "data-state", "connected")
    enter_room(page, room)
    expect(page.locator("#mood")).to_be_hidden()  # facilitators are not asked
    panel = page.get_by_role("complementary", name="Facilitator")
    panel.get_by_role("button", name="Show check-in counts").click()
    expect(panel.locator(".mood-table")).to_contain_text("Not enough answers yet")
    with contextlib.ExitStack() as stack:
        for value in (3, 3, 4, 5, 2):
            client = stack.enter_context(wire_client(app_server.ws))
            client.enter(room)
            answer(client, room, value, "start")
        panel.get_by_role("button", name="Show check-in counts").click()
        table = panel.get_by_role("table", name="This session so far")
        start = table.get_by_role("row", name="Start")
        expect(start.get_by_role("cell")).to_have_text(["0", "1", "2", "1", "1", "5"])
        expect(table.get_by_role("row", name="End")).to_contain_text("Not enough answers yet")
        screenshot(page, "mood-facilitator-counts")


def _seed_weeks(url: str, prefix: str) -> None:
    """Six weekly sessions of HISTORY_ROOM, through the broker as the server writes them:
    check-ins drifting up, check-outs higher, one week with too few check-outs."""

    async def seed() -> None:
        broker = open_broker(url, prefix)
        await broker.start(lambda room, envelope: None)
        now = int(time.time() * 1000)
        room = RoomId(HISTORY_ROOM)
        try:
            for week in range(6, 0, -1):
                at = now - week * WEEK_MS
                session = f"seed{week}"
                starts = [1, 1, 2, 2, 3, 3, 3, 4][week % 3 :]
                ends = [2, 3, 3, 4, 4, 4, 5, 5][week % 2 :] if week != 3 else [3, 4]
                answers = [("start", v) for v in starts] + [("end", v) for v in ends]
                for i, (when, value) in enumerate(answers):
                    given = MoodAnswer(session, when, value, f"{session}-{i}")
                    await broker.mood_add(room, given, at, 3600_000, 91 * 86400_000)
                await broker.mood_end(room, session, at + 3600_000, 91 * 86400_000)
        finally:
            await broker.close()

    # In a thread: the browser tests' own event loop belongs to Playwright.
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(seed())
        except BaseException as exc:  # handed to the test below
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive() and not failure, failure


def test_the_outcomes_chart_and_its_table(pages: Pages, app_server: ServerProcess) -> None:
    _seed_weeks(PREFIX["url"], PREFIX["prefix"])
    rooms = {"caregivers": "Caregivers' corner"}
    console = pages.open("/#/console", size=DESKTOP)
    console_sign_in(console, coordinator_token())
    card = console.get_by_role("region", name="Check-in outcomes")
    expect(card).to_be_visible()
    picker = card.get_by_label("Room")
    picker.select_option(HISTORY_ROOM)
    chart = card.get_by_role("img", name="Check-ins in")
    expect(chart).to_be_visible()
    name = chart.get_attribute("aria-labelledby") or ""
    assert name.split() == ["outcomes-chart-title", "outcomes-chart-desc"]
    title = console.locator("#outcomes-chart-title").text_content() or ""
    assert title.startswith("Check-ins in ") and "by week" in title
    desc = console.locator("#outcomes-chart-desc").text_content() or ""
    assert ", 6 weeks from " in desc and "good or very good" in desc
    assert "fewer than 5 answers" in desc  # the week with too few check-outs says so
    # Two bars a week: one dashed empty bar for the week with too few check-outs.
    assert chart.locator("rect.none").count() == 1
    assert chart.locator("rect[class^='mood-v']").count() > 12
    legend = card.get_by_role("list", name="Answers")
    expect(legend).to_contain_text("Very low")
    expect(legend).to_contain_text("Very good")

    # The table: opened from the keyboard, the same numbers.
    summary_ = card.get_by_text("Show the numbers as a table")
    summary_.focus()
    console.keyboard.press("Enter")
    table = card.get_by_role("table", name=f"Check-ins in {rooms[HISTORY_ROOM]}, by week")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(12)
    first = rows.nth(0)
    expect(first.get_by_role("rowheader").first).to_have_text(re.compile(r"^Week of "))
    expect(table).to_contain_text("fewer than 5 answers")
    heads = table.locator("thead th").all_text_contents()
    assert heads[:2] == ["Week", "When"] and heads[2:7] == ["Very low", "Low", "Okay", "Good",
                                                               "Very good"]  # fmt: skip
    screenshot(console, "outcomes-1280x800")

    phone = pages.open("/#/console", size=PHONE_360)
    console_sign_in(phone, coordinator_token())
    phone_card = phone.get_by_role("region", name="Check-in outcomes")
    phone_card.get_by_label("Room").select_option(HISTORY_ROOM)
    expect(phone_card.get_by_role("img", name="Check-ins in")).to_be_visible()
    phone_card.get_by_text("Show the numbers as a table").click()
    expect(phone_card.get_by_role("table")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_360[0], f"the console scrolls sideways at 360 px: {width}"
    screenshot(phone, "outcomes-360")

    # Signing out leaves nothing of the outcomes on screen.
    console.get_by_role("button", name="Sign out").click()
    expect(console.locator("#outcomes")).to_be_hidden()
    assert console.locator("#outcomes-body").inner_html() == ""
