// The room directory on the home screen: search, the room language (the interface language
// until the person picks another, or all), category chips, live counts polled while the page
// is shown and connected.

import { $, body, el } from "./dom.js";
import { fmtSession, parseTime } from "./format.js";
import { language, localize, primary, setText, words } from "./i18n.js";
import { onLanguageChange } from "./language.js";
import { fullBadgeId, fullCard } from "./room-full.js";
import { isFull } from "./seats.js";
import { S } from "./state.js";

const ROOMS_POLL_MS = 10000;
const ALL = "*"; // the filter's value for every language (an empty value means "mine")
let picked = null; // the room language the person picked; null: follow the interface
let chipsFor = null; // the room language the category chips were gathered for
const seenLanguages = new Set(); // room languages met so far, offered in the filter

/** The room language the directory shows: a primary subtag, or ALL. */
function roomLanguage() {
  return picked || language();
}

// A language's name in the reader's language ("Spanish", "español"); the code if Intl has none.
function languageName(code) {
  try {
    return new Intl.DisplayNames([language()], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

function drawLanguageFilter() {
  const select = $("room-language");
  const codes = [...new Set([language(), ...seenLanguages])]
    .sort((a, b) => languageName(a).localeCompare(languageName(b), language()));
  select.replaceChildren(el("option", { value: ALL, t: "rooms.language.all" }),
    ...codes.map((code) => el("option", { value: code, lang: code,
      say: () => languageName(code) })));
  select.value = roomLanguage();
}

export async function loadRooms() {
  if (S.cur) return;
  const q = $("room-search").value.trim();
  const lang = roomLanguage();
  if (chipsFor !== lang) resetCategories(lang);
  const checked = document.querySelector("#categories input:checked");
  const category = checked ? checked.value : "";
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (category) params.set("category", category);
  if (lang !== ALL) params.set("language", lang);
  const mine = ++S.roomsQuery;
  let rooms;
  try {
    const res = await fetch(`/api/rooms?${params}`, { headers: { accept: "application/json" } });
    if (!res.ok) throw new Error(String(res.status));
    rooms = await res.json();
  } catch {
    if (mine === S.roomsQuery) setStatus(words("rooms.failed"));
    return;
  }
  if (mine !== S.roomsQuery || !Array.isArray(rooms)) return;
  for (const r of rooms) S.catalog.set(r.id, r);
  const before = seenLanguages.size;
  for (const r of rooms) if (primary(r.language)) seenLanguages.add(primary(r.language));
  if (seenLanguages.size !== before) drawLanguageFilter();
  if (!q && !category) addCategories(rooms.map((r) => r.category));
  renderRooms(rooms, q || category);
  body.dataset.rooms = "loaded";
}

function setStatus(say) {
  if (say) localize($("rooms-status"), say);
  else setText($("rooms-status"), "");
}

// The chips are the categories of the rooms in the language shown: a new language starts
// them again (with "All" chosen).
function resetCategories(lang) {
  chipsFor = lang;
  S.categories.clear();
  const box = $("categories");
  for (const chip of [...box.querySelectorAll("label.chip")]) {
    if (chip.querySelector("input").value) chip.remove();
    else chip.querySelector("input").checked = true;
  }
}

function addCategories(names) {
  const box = $("categories");
  for (const name of names) {
    if (!name || S.categories.has(name)) continue;
    S.categories.add(name);
    box.append(el("label", { className: "chip" },
      el("input", { type: "radio", name: "category", value: name }),
      el("span", { text: name })));
  }
}

function renderRooms(rooms, filtered) {
  const now = Date.now();
  const known = [...S.catalog.values()]; // every room loaded so far: where a full one points
  const items = rooms.map((r) => {
    const lang = primary(r.language) || null;
    const full = isFull(r) ? fullCard(r, known) : null;
    const meta = [el("span", { className: "count", t: "rooms.here",
      args: { count: Number(r.members) || 0 } })];
    if (full) meta.unshift(full.badge);
    if (lang && lang !== language()) {
      meta.push(el("span", { className: "badge lang", lang,
        say: () => languageName(lang) }));
    }
    if (r.facilitator_present) meta.push(el("span", { className: "badge fac",
      t: "rooms.facilitatorHere" }));
    else if (r.requires_facilitator) meta.push(el("span", { className: "badge",
      t: "rooms.opensWithFacilitator" }));
    if (r.locked) meta.push(el("span", { className: "badge warn", t: "rooms.locked" }));
    if (r.one_at_a_time) meta.push(el("span", { className: "badge", t: "rooms.oneAtATime" }));
    if (r.in_session) meta.push(el("span", { className: "badge live", t: "rooms.sessionNow" }));
    else if (r.next_session) {
      const at = parseTime(r.next_session);
      if (at) meta.push(el("span", { className: "muted next-session", t: "rooms.nextSession",
        args: { when: () => fmtSession(at, now) } }));
    }
    // The room's own words are in the room's language.
    // A full room's link still tries (a seat may have come free since), and says it is full.
    return el("li", { className: `room-card${r.locked ? " locked" : ""}${full ? " full" : ""}`,
      dataset: { room: r.id } },
      el("h3", { lang }, el("a", { href: `#/room/${encodeURIComponent(r.id)}`,
        "aria-describedby": full ? fullBadgeId(r) : null, text: String(r.name) })),
      el("p", { className: "category", lang, text: String(r.category || "") }),
      el("p", { className: "desc", lang, text: String(r.description || "") }),
      el("p", { className: "room-meta" }, ...meta),
      full ? full.offer : null);
  });
  $("rooms").replaceChildren(...items);
  setStatus(items.length === 0 ? words(roomLanguage() === ALL ? "rooms.none" :
    "rooms.noneInLanguage") : filtered ? words("rooms.found", { count: items.length }) : null);
}

export function startRoomsPoll() {
  stopRoomsPoll();
  S.roomsTimer = setInterval(() => {
    if (!document.hidden && S.conn === "connected") loadRooms();
  }, ROOMS_POLL_MS);
}
export function stopRoomsPoll() {
  clearInterval(S.roomsTimer);
  S.roomsTimer = null;
}

/** The language filter: drawn now, and following the interface until the person picks. */
export function wireDirectory() {
  drawLanguageFilter();
  $("room-language").addEventListener("change", () => {
    const value = $("room-language").value;
    picked = value === language() ? null : value;
    loadRooms();
  });
  onLanguageChange(() => {
    drawLanguageFilter();
    if (!S.cur && S.welcomed) loadRooms();
  });
}
