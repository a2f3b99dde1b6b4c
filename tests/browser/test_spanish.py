"""The Spanish client end to end: a browser whose language is Spanish (Mexico) gets the
directory, a room's rules, the chat and the help page in Spanish, with no English string of the
client's own left on those screens; `lang` on the document and on the room's content; messages
in Arabic or Hebrew read right to left (`dir="auto"`); the language picker changes everything
without a reload and is remembered; index.html's English is the English catalogue's.

The help page's crisis lines come from `GET /api/crisis-resources`. Where the server does not
answer that yet, the page is given an answer of the contract's shape (docs/protocol.md) through
Playwright's routing, so the client is tested against the contract either way; with the route
refused, the built-in list shows.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, Route, WebSocket, expect

from server.tokens import TokenService
from tests.browser.conftest import (
    DESKTOP,
    SECRET,
    Pages,
    facilitator_token,
    own_server,
    screenshot,
    seen,
    wait_for_body,
    wire_client,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.browser

PHONE = (360, 740)
SPANISH_LOCALE, MEXICO_CITY = "es-MX", "America/Mexico_City"  # a browser in Mexico, in Spanish
ARABIC = "أشعر بالقلق اليوم، لكن القراءة هنا تساعدني"
HEBREW = "היום היה יום קשה, תודה שאתם כאן"

# Run in the page: the client's English words (en.js) that are not the same in Spanish, as
# patterns, looked for in what is visible under `root` (text, aria-label, placeholder,
# title), leaving out what is not the client's own (room content, wherever it stands, people's
# words, handles, the crisis lines' names). Returns each English phrase found, with where.
ENGLISH_LEFT = """
async ([root, skip]) => {
  const en = (await import('/static/i18n/en.js')).default;
  const es = (await import('/static/i18n/es.js')).default;
  const forms = (v) => (typeof v === 'string' ? [v] : Object.values(v));
  const escape = (s) => s.replace(/[.*+?^${}()|[\\]\\\\]/g, '\\\\$&');
  const phrases = new Set();
  for (const [key, value] of Object.entries(en)) {
    if (JSON.stringify(value) === JSON.stringify(es[key])) continue;
    for (const form of forms(value)) {
      for (const piece of form.split(/\\{\\w+\\}/)) {
        const words = piece.trim().replace(/^[^\\p{L}]+|[^\\p{L}]+$/gu, '');
        if ((words.match(/\\p{L}/gu) || []).length >= 3) phrases.add(words);
      }
    }
  }
  const patterns = [...phrases].map((p) => [p, new RegExp(
    `(?<![\\\\p{L}])${escape(p)}(?![\\\\p{L}])`, 'u')]);
  const texts = [];
  const top = document.querySelector(root);
  const skipped = (el) => el.closest(skip) !== null;
  const walker = document.createTreeWalker(top, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.nodeValue.trim() || skipped(el) || !el.checkVisibility()) continue;
    texts.push([n.nodeValue.replace(/\\s+/g, ' ').trim(), el.id || el.className || el.tagName]);
  }
  for (const el of top.querySelectorAll('[aria-label], [placeholder], [title]')) {
    if (skipped(el) || !el.checkVisibility()) continue;
    for (const a of ['aria-label', 'placeholder', 'title']) {
      if (el.hasAttribute(a)) texts.push([el.getAttribute(a), `${a} of ${el.id || el.tagName}`]);
    }
  }
  if (root === 'body') texts.push([document.title, 'title']);
  // Rooms' own names, categories and descriptions, wherever they stand, are not ours.
  const rooms = await (await fetch('/api/rooms')).json();
  const content = rooms.flatMap((r) => [r.name, r.category, r.description, r.id])
    .filter(Boolean).sort((a, b) => b.length - a.length);
  const found = [];
  for (let [text, where] of texts) {
    for (const c of content) text = text.split(c).join(' ');
    for (const [phrase, re] of patterns) {
      if (re.test(text)) found.push(`${phrase} (${where}: ${text})`);
    }
  }
  return found;
}
"""

# Not the client's words: rooms' names, categories, descriptions and rules; people's messages,
# handles and content warnings; the crisis lines' own names; the language picker (each
# language by its own name); a command name.
NOT_OURS = ", ".join(
    [
        ".room-card h3",
        ".room-card .category",
        ".room-card .desc",
        "#categories label.chip:not(:first-of-type)",
        "#room-title",
        "#room-desc",
        "#rules-list",
        ".msg-text:not(.msg-deleted)",
        ".msg-handle",
        "#my-handle",
        ".cw-text",
        ".p-handle",
        "#help-resources li",
        "#lang-select",
        "code",
    ]
)

# A stand-in of the contract's `GET /api/crisis-resources` for a server that lacks it.
CONTRACT_LINES = {
    "MX": [{"name": "Línea de la Vida", "contact": "800 911 2000", "url": None, "country": "MX"}],
    "ES": [{"name": "Línea 024", "contact": "024", "url": None, "country": "ES"}],
}
INTERNATIONAL = {
    "name": "Find A Helpline",
    "contact": "https://findahelpline.com",
    "url": "https://findahelpline.com",
    "country": None,
}
COUNTRIES = [{"code": "MX", "name": "Mexico"}, {"code": "ES", "name": "Spain"}]


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own, so the pictures show only these conversations."""
    yield from own_server(tmp_path_factory, "spanish-server")


def coordinator_token() -> str:
    """What `peer-support coordinator-token --name Kim --hours 1` prints for the tests' key."""
    return TokenService((SECRET,), 3600).issue_coordinator("Kim", 1)


def english_left(page: Page, root: str = "body") -> list[str]:
    found: list[str] = page.evaluate(ENGLISH_LEFT, [root, NOT_OURS])
    return found


def assert_no_english(page: Page, root: str = "body") -> None:
    found = english_left(page, root)
    assert found == [], "\n".join(found)


def crisis_lines(page: Page, asked: list[str]) -> None:
    """Answer `/api/crisis-resources` from the server where it has it, else as the contract
    says; every country asked for is recorded."""

    def answer(route: Route) -> None:
        country = parse_qs(urlparse(route.request.url).query).get("country", [""])[0]
        asked.append(country)
        real = route.fetch()
        if real.status == 200:
            route.fulfill(response=real)
            return
        code = country.upper() if country.upper() in CONTRACT_LINES else None
        body = {
            "country": code,
            "resources": [*CONTRACT_LINES.get(code or "", []), INTERNATIONAL],
            "countries": COUNTRIES,
        }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/crisis-resources*", answer)


def watch_frames(page: Page, sent: list[dict[str, Any]]) -> None:
    """Keep every frame the page sends on its WebSocket."""

    def on_socket(ws: WebSocket) -> None:
        def on_frame(payload: str | bytes) -> None:
            if isinstance(payload, str):
                sent.append(json.loads(payload))

        ws.on("framesent", on_frame)

    page.on("websocket", on_socket)


def open_spanish(pages: Pages, size: tuple[int, int], asked: list[str], sent: list[Any]) -> Page:
    def before(page: Page) -> None:
        crisis_lines(page, asked)
        watch_frames(page, sent)

    page = pages.open(size=size, before=before, locale=SPANISH_LOCALE, timezone_id=MEXICO_CITY)
    wait_for_body(page, "data-rooms", "loaded")
    return page


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["360x740", "1280x800"])
def test_the_spanish_client_end_to_end(
    pages: Pages, app_server: ServerProcess, size: tuple[int, int]
) -> None:
    label = f"{size[0]}x{size[1]}"
    asked: list[str] = []
    sent: list[dict[str, Any]] = []
    page = open_spanish(pages, size, asked, sent)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    # The directory: Spanish, Spanish rooms first (the filter is the interface language).
    assert page.evaluate("document.documentElement.lang") == "es"
    expect(
        page.get_by_role("heading", name="Habla con personas que han pasado por lo mismo")
    ).to_be_visible()
    expect(page.get_by_label("Idioma de esta página")).to_have_value("es")
    expect(page.get_by_label("Idioma de las salas")).to_have_value("es")
    cards = page.locator("#rooms .room-card")
    expect(cards).to_have_count(2)
    ansiedad = page.locator('#rooms [data-room="ansiedad"]')
    expect(ansiedad.locator("h3")).to_have_attribute("lang", "es")
    # Next session in the member's locale and zone: Wednesday 20:00 in Mexico City (unless it
    # is on right now).
    expect(ansiedad.locator(".next-session, .badge.live")).to_have_text(
        re.compile(
            r"^(Próxima sesión: miércoles 8:00\sp\.\s?m\., "
            r"(dentro de \d+ (días|horas|minutos)|mañana)|Sesión en curso)$"
        )
    )
    assert_no_english(page)
    screenshot(page, f"spanish-directory-{label}")
    # Every language: the English rooms come back, each marked as English.
    page.get_by_label("Idioma de las salas").select_option("*")
    expect(cards).to_have_count(10)
    grief = page.locator('#rooms [data-room="grief-and-loss"]')
    expect(grief.locator("h3")).to_have_attribute("lang", "en")
    expect(grief.locator(".badge.lang")).to_have_text("inglés")
    page.get_by_label("Idioma de las salas").select_option("es")
    expect(cards).to_have_count(2)

    # A room: its rules (the room's own, in Spanish), lang on its content.
    room = "ansiedad"
    page.get_by_role("link", name="Vivir con ansiedad").click()
    wait_for_body(page, "data-room-state", "joined")
    expect(page.locator("#rules-list li").first).to_contain_text("Lo que se comparte aquí")
    for part in ("#room-title", "#room-desc", "#rules-list"):
        expect(page.locator(part)).to_have_attribute("lang", "es")
    expect(page.locator("#message-input")).to_have_attribute(
        "placeholder", "Acepta las normas del grupo para escribir"
    )
    assert_no_english(page)
    screenshot(page, f"spanish-rules-{label}")

    # The chat: agree, write, see it; others write in Arabic and Hebrew.
    page.get_by_role("button", name="Acepto las normas del grupo").click()
    page.wait_for_selector("#message-input:enabled")
    mine = f"Hoy fue un día difícil, gracias por leerme {uuid.uuid4().hex[:4]}"
    page.locator("#message-input").fill(mine)
    page.get_by_role("button", name="Enviar", exact=True).click()
    own = seen(page, mine)
    expect(own.locator(".msg-handle")).to_have_text(re.compile(r" \(tú\)$"))
    with wire_client(app_server.ws) as peer:
        peer.enter(room)
        peer.say(room, ARABIC)
        peer.say(room, HEBREW)
        for text in (ARABIC, HEBREW):
            words = seen(page, text).locator(".msg-text")
            expect(words).to_have_attribute("dir", "auto")
            expect(words).to_have_attribute("lang", "es")
            assert words.evaluate("(p) => p.matches(':dir(rtl)')"), text
            assert words.evaluate("(p) => getComputedStyle(p).direction") == "rtl", text
        assert own.locator(".msg-text").evaluate("(p) => p.matches(':dir(ltr)')")
        expect(
            seen(page, ARABIC).get_by_role("button", name=re.compile("^Denunciar el mensaje de "))
        ).to_be_visible()
        assert_no_english(page)
        screenshot(page, f"spanish-room-{label}")

    # The help page: the member's country (from es-MX) first, with a picker.
    page.get_by_role("button", name="¿Necesitas ayuda ahora?").click()
    dialog = page.get_by_role("dialog", name="Busca ayuda ahora")
    expect(dialog).to_be_visible()
    picker = dialog.get_by_label("Tu país")
    expect(picker).to_have_value("MX")
    expect(dialog.locator("#help-resources h3").first).to_have_text("En México")
    expect(dialog.locator("#help-resources h3").last).to_have_text("En cualquier parte del mundo")
    expect(dialog.get_by_role("link", name="findahelpline.com")).to_be_visible()
    expect(dialog.locator("#help-fallback")).to_be_hidden()
    assert_no_english(page, "#help")
    screenshot(page, f"spanish-help-{label}")
    picker.select_option("ES")
    expect(dialog.locator("#help-resources h3").first).to_have_text("En España")
    assert page.evaluate("localStorage.getItem('psc.country')") == "ES"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # The country went in `hello` and to the crisis lines, and nowhere else.
    hellos = [f for f in sent if f.get("type") == "hello"]
    assert hellos and all(f.get("country") == "MX" for f in hellos), hellos
    assert asked[:2] == ["MX", "ES"], asked
    assert all(f.get("type") == "hello" or "country" not in f for f in sent)
    for url in requests:
        if "/api/crisis-resources" not in url:
            assert not re.search(r"\b(MX|ES)\b", urlparse(url).query), url


def test_the_help_page_keeps_its_own_lines_when_the_server_has_none(pages: Pages) -> None:
    def before(page: Page) -> None:
        page.route("**/api/crisis-resources*", lambda route: route.abort())

    # A refused request is logged by the browser; that is what this test makes happen.
    pages.allowed.append(re.compile(r"net::ERR_FAILED"))
    page = pages.open(size=PHONE, before=before, locale=SPANISH_LOCALE, timezone_id=MEXICO_CITY)
    page.get_by_role("button", name="¿Necesitas ayuda ahora?").click()
    dialog = page.get_by_role("dialog", name="Busca ayuda ahora")
    fallback = dialog.locator("#help-fallback")
    expect(fallback).to_be_visible()
    expect(fallback).to_contain_text("Estados Unidos:")
    expect(fallback.get_by_role("link", name="988", exact=True)).to_have_attribute(
        "href", "tel:988"
    )
    expect(dialog.get_by_label("Tu país")).to_be_hidden()
    assert_no_english(page, "#help")
    screenshot(page, "spanish-help-fallback-360x740")


def test_the_language_changes_on_the_page_without_a_reload_and_is_remembered(
    pages: Pages,
) -> None:
    opened: list[WebSocket] = []
    page = pages.open(before=lambda p: p.on("websocket", lambda ws: opened.append(ws)))
    wait_for_body(page, "data-rooms", "loaded")
    # An English browser gets the English client, and English rooms.
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.locator("#rooms .room-card")).to_have_count(8)
    assert english_left(page), "the check finds English where there is English"

    # In a room, with words typed: the language changes around them.
    page.goto("/#/room/general-check-in")
    wait_for_body(page, "data-room-state", "joined")
    page.get_by_role("button", name="I agree to the ground rules").click()
    page.wait_for_selector("#message-input:enabled")
    page.locator("#message-input").fill("half a thought")
    expect(page.get_by_label("Language of this page")).to_have_value("en")
    picker = page.locator("#lang-select")  # its label changes language with it
    picker.focus()
    page.keyboard.press("ArrowDown" if picker.input_value() == "en" else "ArrowUp")
    expect(picker).to_have_value("es")
    assert page.evaluate("document.documentElement.lang") == "es"
    expect(page.get_by_role("button", name="Enviar", exact=True)).to_be_visible()
    expect(page.locator("#message-input")).to_have_value("half a thought")
    expect(page.locator("#message-input")).to_have_attribute(
        "placeholder", re.compile("^Escribe un mensaje")
    )
    expect(page.locator("#conn-text")).to_have_text("Conectado")
    expect(page.locator("#alerts")).to_have_text("Esta página ahora está en español.")
    # The room (English) keeps its own language on its content.
    expect(page.locator("#rules-list")).to_have_attribute("lang", "en")
    assert len(opened) == 1, "the language changed without a new connection"
    wait_for_body(page, "data-state", "connected")

    # The directory follows: Spanish rooms.
    page.locator(".back").first.click()
    wait_for_body(page, "data-view", "home")
    expect(page.locator("#rooms .room-card")).to_have_count(2)
    assert_no_english(page)

    # Remembered on this device: a reload is Spanish, whatever the browser says.
    assert page.evaluate("localStorage.getItem('psc.language')") == "es"
    page.reload()
    wait_for_body(page, "data-rooms", "loaded")
    assert page.evaluate("document.documentElement.lang") == "es"
    page.get_by_label("Idioma de esta página").select_option("en")
    expect(page.get_by_role("heading", name="Talk with people who have been there")).to_be_visible()
    expect(page.locator("#rooms .room-card")).to_have_count(8)


# Run in the page: index.html as served (before any script) against en.js: every element with
# data-i18n says its catalogue words (slots read as {name}), every data-i18n-<attribute> too.
HTML_IS_CATALOGUE = """
async () => {
  const en = (await import('/static/i18n/en.js')).default;
  const html = await (await fetch('/')).text();
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const norm = (s) => s.replace(/\\s+/g, ' ').trim();
  const said = (el) => [...el.childNodes].map((n) => n.nodeType === 3 ? n.nodeValue :
    n.dataset && n.dataset.slot ? `{${n.dataset.slot}}` : said(n)).join('');
  const wrong = [];
  for (const el of doc.querySelectorAll('[data-i18n]')) {
    const key = el.dataset.i18n;
    if (norm(said(el)) !== en[key]) wrong.push(`${key}: ${norm(said(el))} != ${en[key]}`);
  }
  for (const attr of ['aria-label', 'placeholder', 'title']) {
    for (const el of doc.querySelectorAll(`[data-i18n-${attr}]`)) {
      const key = el.getAttribute(`data-i18n-${attr}`);
      if (el.getAttribute(attr) !== en[key]) wrong.push(`${key}: ${el.getAttribute(attr)}`);
    }
  }
  return [doc.querySelectorAll('[data-i18n]').length, wrong];
}
"""


def test_index_html_says_what_the_english_catalogue_says(pages: Pages) -> None:
    page = pages.open()
    count, wrong = page.evaluate(HTML_IS_CATALOGUE)
    assert count > 100
    assert wrong == []


def test_the_facilitator_tools_and_the_console_speak_spanish(
    pages: Pages, app_server: ServerProcess
) -> None:
    page = pages.open(size=DESKTOP, locale=SPANISH_LOCALE, timezone_id=MEXICO_CITY)
    page.locator("#fac-details summary").click()
    page.get_by_label("Token de facilitador").fill(facilitator_token("Ana"))
    page.get_by_role("button", name="Entrar como facilitador").click()
    wait_for_body(page, "data-role", "facilitator")
    wait_for_body(page, "data-state", "connected")
    room = "duelo"
    page.goto(f"/#/room/{room}")
    wait_for_body(page, "data-room-state", "joined")
    page.get_by_role("button", name="Acepto las normas del grupo").click()
    with wire_client(app_server.ws) as member:
        member.enter(room)
        member.send({"type": "raise_hand", "room": room, "ref": "h"})
        member.expect("ack", ref="h")
        panel = page.get_by_role("complementary", name="Facilitación")
        expect(panel.locator("#hands .hand")).to_have_count(1)
        expect(panel.get_by_role("button", name=re.compile("^Dar la palabra a "))).to_be_visible()
        panel.get_by_role("button", name=re.compile("^Silenciar a ")).click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_label("Durante cuánto tiempo")).to_be_visible()
        dialog.get_by_label("Motivo (se le mostrará)").fill("un respiro")
        assert_no_english(page, "#mod-dialog")
        dialog.get_by_role("button", name="Silenciar", exact=True).click()
        expect(panel.locator(".badge.warn")).to_have_text(re.compile("^En silencio hasta: "))
        page.get_by_role("button", name="Ver el registro de acciones").click()
        expect(page.locator("#audit-list")).to_contain_text("· Ana · silenció ·")
        assert_no_english(page)
        screenshot(page, "spanish-facilitator-1280x800")

    page.goto("/#/console")
    page.get_by_label("Token de coordinación").fill(coordinator_token())
    page.get_by_role("button", name="Entrar en la consola").click()
    expect(page.locator("#console-status")).to_have_text("Has entrado.")
    expect(page.locator("#invite-room-list input")).not_to_have_count(0)
    assert_no_english(page)
    page.get_by_role("button", name="Nueva sala").click()
    expect(page.get_by_label("Identificador de la sala")).to_be_visible()
    page.get_by_role("button", name="Añadir una sesión").click()
    expect(page.get_by_label("Zona horaria")).to_be_visible()
    assert_no_english(page, "#room-form")
    screenshot(page, "spanish-console-room-form-1280x800")
