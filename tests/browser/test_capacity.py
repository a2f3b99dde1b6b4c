"""Small groups in the browser: a full room says "Full" in the directory and offers the open
rooms of its category and language; trying to join it brings the member back to the directory
with a kind notice (focused) and the server's `alternatives` by name, and following one enters
that room; the same in Spanish; a reconnect refused because the seat went says so too.

The rooms are filled by plain wire clients (they stay in for the whole module); the server has
a rooms file of its own with small capacities, and holds no seat after a drop
(`SEAT_HOLD_SECONDS=0`) so the reconnect test can give the seat away.
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from tests.browser.conftest import (
    DESKTOP,
    Pages,
    enter_room,
    own_server,
    screenshot,
    wait_for_body,
    wire_client,
)
from tests.browser.test_spanish import assert_no_english
from tests.support import ServerProcess, wait_until

pytestmark = pytest.mark.browser

PHONE_360 = (360, 740)
FULL, OPEN, OTHER = "evening-circle", "morning-circle", "worry-room"
LLENA, ABIERTA = "circulo-tarde", "circulo-manana"
SOLO = "carers-circle"  # the only room of its category: nowhere like it to offer
ROOMS = f"""
[defaults]
rules = ["Be kind."]

[[rooms]]
id = "{FULL}"
name = "Evening circle"
category = "Grief"
description = "A small grief group in the evening."
capacity = 2

[[rooms]]
id = "{OTHER}"
name = "Worry room"
category = "Anxiety"
description = "Another category: never offered for grief."

[[rooms]]
id = "{OPEN}"
name = "Morning circle"
category = "grief"
description = "A grief group with space."

[[rooms]]
id = "{SOLO}"
name = "Carers' circle"
category = "Caring"
description = "For people caring for someone."
capacity = 1

[[rooms]]
id = "{LLENA}"
name = "Círculo de la tarde"
category = "Duelo"
description = "Un grupo pequeño de duelo por la tarde."
language = "es"
capacity = 2

[[rooms]]
id = "{ABIERTA}"
name = "Círculo de la mañana"
category = "duelo"
description = "Un grupo de duelo con sitio."
language = "es"
"""
JOIN_FULL = "This group is full right now: small groups keep everyone heard."
JOIN_FULL_ES = (
    "Este grupo está completo ahora mismo: en los grupos pequeños todo el mundo puede ser "
    "escuchado."
)
RETURNING = (
    "You were away for a while, so your seat in this group could not be kept. It is full right "
    "now: small groups keep everyone heard."
)


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with the small rooms above."""
    yield from own_server(tmp_path_factory, "capacity-server", ROOMS, SEAT_HOLD_SECONDS="0")


@pytest.fixture(scope="module", autouse=True)
def filled(app_server: ServerProcess) -> Iterator[None]:
    """Two members in each room of capacity 2, there for the whole module."""
    with contextlib.ExitStack() as stack:
        for room in (FULL, FULL, LLENA, LLENA):
            stack.enter_context(wire_client(app_server.ws)).enter(room)
        yield


def members(server: ServerProcess, room: str) -> int:
    with urllib.request.urlopen(f"{server.http}/api/rooms?language=", timeout=5) as response:
        listed = {r["id"]: r for r in json.load(response)}
    return int(listed[room]["members"])


def no_sideways_scroll(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page scrolls sideways at {width} px: {scroll}"


def full_card(page: Page, room: str, name: str, badge: str, offer: str) -> Locator:
    """Check that `room`'s card says `badge` in words, heard with its link (returned), and
    `offer` above the rooms it offers."""
    card = page.locator(f'#rooms [data-room="{room}"]')
    expect(card.locator(".badge.full")).to_have_text(badge)
    link = card.get_by_role("link", name=name, exact=True)
    expect(link).to_have_accessible_description(badge)
    expect(card.locator(".full-offer p")).to_have_text(offer)
    return card.locator(".full-offer")


def refused(page: Page, says: str, offer: str) -> Locator:
    """Check that the page is back in the directory with the focused notice saying `says`, and
    `offer` above the rooms it offers; the notice."""
    notice = page.locator("#home-notice")
    expect(notice).to_be_focused()
    expect(page.locator("#home-notice-text")).to_have_text(says)
    expect(notice.locator(".full-offer p")).to_have_text(offer)
    wait_for_body(page, "data-view", "home")
    wait_for_body(page, "data-room-state", "none")
    assert page.evaluate("location.hash") == "#/"
    return notice


@pytest.mark.parametrize("size", [PHONE_360, DESKTOP], ids=["360x740", "1280x800"])
def test_a_full_room_says_so_and_leads_to_one_with_space(
    pages: Pages, size: tuple[int, int]
) -> None:
    label = f"{size[0]}x{size[1]}"
    page = pages.open(size=size)
    wait_for_body(page, "data-rooms", "loaded")

    # The card: "Full" in words, heard with the room's link, and where there is space.
    offer = full_card(
        page, FULL, "Evening circle", "Full", "No seat here right now. Rooms like it with space:"
    )
    expect(offer.get_by_role("link")).to_have_text(["Morning circle"])  # not Anxiety, not Spanish
    expect(offer.get_by_role("link")).to_have_attribute("href", f"#/room/{OPEN}")
    # Rooms with space say nothing of the kind.
    expect(page.locator(f'#rooms [data-room="{OPEN}"] .badge.full')).to_have_count(0)
    no_sideways_scroll(page, size[0])
    screenshot(page, f"full-directory-{label}")

    # Trying to join (the card's link): back in the directory, told why, kindly, with the
    # server's alternatives by name, the focus on the notice.
    page.locator(f'#rooms [data-room="{FULL}"] h3 a').click()
    notice = refused(page, JOIN_FULL, "Rooms like it with space right now:")
    expect(notice.get_by_role("link")).to_have_text(["Morning circle"])
    no_sideways_scroll(page, size[0])
    screenshot(page, f"full-refused-{label}")

    # Following the alternative, by keyboard, enters that room.
    page.keyboard.press("Tab")
    expect(notice.get_by_role("link", name="Morning circle")).to_be_focused()
    page.keyboard.press("Enter")
    wait_for_body(page, "data-room-state", "joined")
    expect(page.locator("#room-title")).to_have_text("Morning circle")
    expect(notice).to_be_hidden()


def test_in_spanish_the_same_words_are_spanish(pages: Pages) -> None:
    page = pages.open(size=PHONE_360, locale="es-ES", timezone_id="Europe/Madrid")
    wait_for_body(page, "data-rooms", "loaded")
    offer = full_card(
        page,
        LLENA,
        "Círculo de la tarde",
        "Llena",
        "Ahora mismo no queda sitio. Salas parecidas con sitio:",
    )
    expect(offer.get_by_role("link")).to_have_text(["Círculo de la mañana"])
    expect(offer.get_by_role("link")).to_have_attribute("lang", "es")
    assert_no_english(page, "#view-home")
    screenshot(page, "full-spanish-directory-360x740")

    page.locator(f'#rooms [data-room="{LLENA}"] h3 a').click()
    notice = refused(page, JOIN_FULL_ES, "Salas parecidas con sitio ahora mismo:")
    alternative = notice.get_by_role("link", name="Círculo de la mañana")
    expect(alternative).to_be_visible()
    assert_no_english(page, "#view-home")
    screenshot(page, "full-spanish-refused-360x740")
    alternative.click()
    wait_for_body(page, "data-room-state", "joined")
    expect(page.locator("#room-title")).to_have_text("Círculo de la mañana")


class Gate:
    """The page's WebSocket passed through to the real server, which the test can cut, and keep
    closed (each new connection closed at once) until it opens it again."""

    def __init__(self) -> None:
        self.open = True
        self.page_side: WebSocketRoute | None = None
        self.server_side: WebSocketRoute | None = None

    def install(self, page: Page) -> None:
        def handler(ws: WebSocketRoute) -> None:
            if not self.open:
                ws.close(code=1012, reason="test: closed")
                return
            self.server_side = ws.connect_to_server()
            self.page_side = ws

        page.route_web_socket(re.compile(r"/ws$"), handler)

    def cut(self) -> None:
        assert self.page_side is not None and self.server_side is not None
        self.open = False
        self.server_side.close()
        self.page_side.close(code=1012, reason="test: cut")


def test_a_reconnect_refused_because_the_seat_went_says_so(
    pages: Pages, app_server: ServerProcess
) -> None:
    gate = Gate()
    page = pages.open(before=gate.install)
    enter_room(page, SOLO)
    # The member's connection drops; their seat is not held (SEAT_HOLD_SECONDS=0) and someone
    # else takes it before they are back.
    gate.cut()
    wait_until(lambda: members(app_server, SOLO) == 0, 10, "the dropped member's leave")
    with wire_client(app_server.ws) as newcomer:
        newcomer.enter(SOLO)
        gate.open = True
        # Nowhere like it has space: said so, with the rest of the directory below.
        notice = refused(
            page,
            RETURNING,
            "No room like it has space just now. You are welcome "
            "in any of the rooms below, or try again later.",
        )
        expect(notice.get_by_role("link")).to_have_count(0)
        offer = full_card(
            page,
            SOLO,
            "Carers' circle",
            "Full",
            "No seat here right now, and no room like it has space. You are "
            "welcome in any of the other rooms here, or come back later.",
        )
        expect(offer.locator("a")).to_have_count(0)
        wait_for_body(page, "data-state", "connected")
