// The coordinator console's queue across rooms and record of what coordinators did, pure
// parts: how long an item has waited, its kind in words, which crisis alerts are new since the
// last look, a summary of what waits, and an admin audit entry as a sentence. No DOM, network
// or clock (the time is passed in), so `node --test tests/static/` tests them.

import { hasWords, wordsFor } from "./console-words.js";

// The words: the message catalogues (static/i18n/), under this prefix.
const say = wordsFor("console.queue");

/** An item's kind in words: "Crisis alert", "Report", "Flag", or "Item" for any other. */
export function kindText(kind) {
  return ["alert", "report", "flag"].includes(kind) ? say(`kind.${kind}`) : say("kind.other");
}

/** How long ago `iso` was at `nowMs`: "just now", "3 min ago", "2 h ago", "4 days ago". */
export function ageText(iso, nowMs) {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return "";
  const minutes = Math.floor(Math.max(0, nowMs - at) / 60000);
  if (minutes < 1) return say("age.now");
  if (minutes < 60) return say("age.minutes", { count: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return say("age.hours", { count: hours });
  return say("age.days", { count: Math.floor(hours / 24) });
}

/** One queue item's key across rooms (item ids are per room: q1, q2, …). */
export function itemKey(item) {
  return `${item && item.room}/${item && item.id}`;
}

/** The crisis alerts of `items` whose keys are not in `known` (a Set from the last look). */
export function newAlerts(known, items) {
  return (Array.isArray(items) ? items : []).filter((i) => i && i.kind === "alert" &&
    !known.has(itemKey(i)));
}

/** What is said when crisis alerts arrive; `roomName(id)` names their rooms. "" for none. */
export function alertNews(alerts, roomName) {
  if (!alerts.length) return "";
  const rooms = [...new Set(alerts.map((a) => roomName(a.room)))];
  if (alerts.length === 1) return say("newAlert", { room: rooms[0] });
  return say("newAlerts", { count: alerts.length, rooms: rooms.join(", ") });
}

/** "Waiting: 2 crisis alerts and 3 other items." or "Nothing is waiting in any room." */
export function queueSummary(items) {
  const list = Array.isArray(items) ? items : [];
  const alerts = list.filter((i) => i && i.kind === "alert").length;
  const others = list.length - alerts;
  const parts = [];
  if (alerts) parts.push(say("summary.alerts", { count: alerts }));
  if (others) parts.push(say("summary.others", { count: others }));
  if (!parts.length) return say("summary.none");
  return say("summary.waiting", { parts: parts.length === 2 ?
    say("summary.and", { a: parts[0], b: parts[1] }) : parts[0] });
}

/** Facilitator id -> name, from the invitations in an admin audit log. */
export function invitedNames(entries) {
  const names = new Map();
  for (const e of Array.isArray(entries) ? entries : []) {
    if (e && e.action === "facilitator_invite" && typeof e.facilitator === "string") {
      names.set(e.facilitator, String(e.name || ""));
    }
  }
  return names;
}

function fieldsText(fields) {
  return (Array.isArray(fields) ? fields : []).map((f) => {
    const key = `field.${f}`;
    return hasWords("console.queue", key) ? say(key) : String(f);
  }).join(", ");
}

/**
 * One admin audit entry as a sentence. `names` maps facilitator ids to names (invitedNames),
 * `roomName(id)` names rooms. Never more than the entry holds (it holds no token or text).
 */
export function auditText(entry, names, roomName) {
  const e = entry || {};
  const by = String(e.by || "");
  const room = typeof e.room === "string" ? roomName(e.room) : "";
  const name = String(e.name || (names && names.get(e.facilitator)) || say("audit.someone"));
  switch (e.action) {
    case "facilitator_invite":
      return say("audit.facilitator_invite", { by, name, rooms: Array.isArray(e.rooms) ?
        e.rooms.map(roomName).join(", ") : say("audit.allRooms") });
    case "facilitator_revoke":
      return say("audit.facilitator_revoke", { by, name });
    case "room_create":
    case "room_archive":
    case "queue_resolve":
      return say(`audit.${e.action}`, { by, room });
    case "room_edit":
      return Array.isArray(e.fields) && e.fields.includes("rules") ?
        say("audit.room_edit_rules", { by, room, fields: fieldsText(e.fields),
          version: Number(e.rules_version) || 1 }) :
        say("audit.room_edit", { by, room, fields: fieldsText(e.fields) });
    default:
      return say("audit.other", { by, action: String(e.action || "") });
  }
}
