// Small groups on screen: a full room's card in the directory ("Full", and the rooms like it
// that have space, or a way onward when none has), and a `join` refused with `room_full`: back
// to the directory with a kind word and the server's `alternatives`, by their names.

import { el } from "./dom.js";
import { primary, words } from "./i18n.js";
import { showHomeNotice } from "./notices.js";
import * as recovery from "./recovery.js";
import { alternativeIds, openAlternatives } from "./seats.js";
import { S } from "./state.js";

/** The id of a full room's "Full" badge: its card's link is described by it. */
export function fullBadgeId(room) {
  return `room-full-${room.id}`;
}

/** Links that enter `rooms` (directory entries; one not known shows its id), each in its language. */
function roomLinks(rooms) {
  return el("ul", { className: "alternatives" }, ...rooms.map((r) => el("li", {},
    el("a", { href: `#/room/${encodeURIComponent(r.id)}`, lang: primary(r.language) || null,
      dataset: { room: r.id }, text: String(r.name || r.id) }))));
}

/**
 * What a full room's card shows: "Full" (words, not colour alone) among its badges, and under
 * them the open rooms of the same category and language from `rooms` (the directory data the
 * page has), or, when none has space, that the other rooms here are welcoming.
 */
export function fullCard(room, rooms) {
  const badge = el("span", { className: "badge warn full", id: fullBadgeId(room),
    t: "rooms.full" });
  const open = openAlternatives(room, rooms);
  const offer = el("div", { className: "full-offer" },
    el("p", { t: open.length ? "rooms.full.offer" : "rooms.full.none" }),
    open.length ? roomLinks(open) : null);
  return { badge, offer };
}

// Every room the server lists (all languages), into the page's directory data; false if the
// request failed.
async function learnRooms() {
  try {
    const res = await fetch("/api/rooms", { headers: { accept: "application/json" } });
    if (!res.ok) return false;
    const rooms = await res.json();
    if (!Array.isArray(rooms)) return false;
    for (const r of rooms) if (r && typeof r.id === "string") S.catalog.set(r.id, r);
    return true;
  } catch {
    return false;
  }
}

// The rooms a `room_full` offered, by their names: from the directory data, asking the server
// for the rooms when one of them is not known yet (a room opened by its address).
function offered(ids) {
  const box = el("div", { className: "full-offer" });
  const draw = () => box.replaceChildren(
    el("p", { t: ids.length ? "join.full.offer" : "join.full.none" }),
    ids.length ? roomLinks(ids.map((id) => S.catalog.get(id) || { id })) : null);
  draw();
  if (ids.some((id) => !S.catalog.has(id))) {
    learnRooms().then((learnt) => { if (learnt && box.isConnected) draw(); });
  }
  return box;
}

/**
 * `join` refused with `room_full`: the member goes back to the directory, where a notice,
 * focused so it is read first, says why, kindly, with the rooms the server offered as links.
 * A reconnect refused so (away longer than the seat is held) says that their seat went.
 */
export function showRoomFull(cur, err) {
  const say = words(cur.everJoined ? "join.full.returning" : "join.full");
  const ids = alternativeIds(err.alternatives, cur.id);
  recovery.ended(S.memory, cur.id); // out of the room: a later entry starts from its history
  // main.js routes on the change of address (the directory, its heading focused); the notice
  // comes after that, and takes the focus.
  window.addEventListener("hashchange", () => showHomeNotice(say, offered(ids)), { once: true });
  location.hash = "#/";
}
