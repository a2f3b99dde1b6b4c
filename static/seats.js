// Small groups, the pure parts: whether a directory entry is full, which rooms of the directory
// to offer instead (the server's rule for `room_full` `alternatives`, docs/protocol.md "Seats",
// applied to the entries the page already has), and the room ids a `room_full` names that the
// page can go to.

import { primary } from "./i18n.js";

/** At most this many rooms offered instead of a full one: the server's own cap. */
export const MAX_ALTERNATIVES = 5;
// The address router's room ids (main.js `#/room/<id>`): anything else cannot be entered.
const ROOM_ID = /^[a-z0-9-]{1,64}$/;

/** True when the directory entry says no newcomer has a seat (`/api/rooms` `full`). */
export function isFull(room) {
  return Boolean(room) && room.full === true;
}

function sameCategory(a, b) {
  return String(a.category || "").toLowerCase() === String(b.category || "").toLowerCase();
}

/**
 * The rooms to offer instead of `room`, from `rooms` (directory entries, in directory order):
 * the same category (any letter case) and primary language ("en" for "en-GB"), not locked,
 * not full, not `room` itself; at most `max`, in the order given.
 */
export function openAlternatives(room, rooms, max = MAX_ALTERNATIVES) {
  if (!room || !Array.isArray(rooms)) return [];
  const lang = primary(room.language);
  const found = [];
  for (const r of rooms) {
    if (found.length >= max) break;
    if (!r || r.id === room.id || !ROOM_ID.test(String(r.id))) continue;
    if (r.locked || isFull(r) || !sameCategory(r, room)) continue;
    if (primary(r.language) !== lang) continue;
    found.push(r);
  }
  return found;
}

/**
 * The room ids of a `room_full` error's `alternatives` the page can enter: strings that are
 * room ids, each once, in the server's order, at most MAX_ALTERNATIVES, never `room` itself.
 * Anything else (a missing or malformed list) is no alternative.
 */
export function alternativeIds(alternatives, room) {
  if (!Array.isArray(alternatives)) return [];
  const ids = [];
  for (const id of alternatives) {
    if (ids.length >= MAX_ALTERNATIVES) break;
    if (typeof id !== "string" || !ROOM_ID.test(id) || id === room || ids.includes(id)) continue;
    ids.push(id);
  }
  return ids;
}
