// The coordinator console's queue across rooms: what waits for a facilitator in every room
// (`GET /api/admin/queue`, crisis alerts first), asked for again every few seconds while the
// page is shown. Items keep their elements (no jumps, no lost focus); their ages are kept
// current; a crisis alert that arrives is said once through the polite live region.

import { api } from "./console-api.js";
import { syncList } from "./console-list.js";
import { errorSentence } from "./console-model.js";
import {
  ageText, alertNews, itemKey, kindText, newAlerts, queueSummary,
} from "./console-queue-model.js";
import { roomName } from "./console-rooms.js";
import { wordsFor } from "./console-words.js";
import { $, el } from "./dom.js";

// The words: the message catalogues (static/i18n/), under this prefix.
const say = wordsFor("console.queue");

const QUEUE_MS = 5000;
const rows = new Map(); // room/item -> its list item and parts
let known = null; // keys of the items seen at the last look; null before the first
let timer = null;
let loading = false;
let hooks = null;
const whenFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short",
  day: "numeric", hour: "2-digit", minute: "2-digit" });

function makeRow(item) {
  const alert = item.kind === "alert";
  // Not by colour alone: a crisis alert has a sign, its kind in bold words and a thick edge.
  const kind = el("strong", { className: "admin-item-kind" });
  const room = el("span", { className: "admin-item-room" });
  const age = el("time", { className: "admin-item-age" });
  const note = el("p", { className: "admin-item-note muted" });
  // A coordinator may close an item too (the only way for one of an archived room).
  const handled = el("button", { type: "button", className: "button small secondary",
    onclick: () => markHandled(item) });
  const li = el("li", { className: `admin-item${alert ? " alert" : ""}`,
    dataset: { kind: String(item.kind || ""), key: itemKey(item) } },
  el("p", { className: "admin-item-head" },
    alert ? el("span", { className: "admin-item-sign", "aria-hidden": "true", text: "!" }) :
      null, kind, " ", room, " · ", age), note, handled);
  return { item: li, kind, room, age, note, handled };
}

async function markHandled(item) {
  if (!hooks) return;
  const path = `/api/admin/queue/${encodeURIComponent(item.room)}/${encodeURIComponent(item.id)}`;
  const answer = await api("DELETE", path);
  if (!hooks) return;
  if (!answer.ok && answer.status !== 404) {
    summary(say("handled.failed", { why: errorSentence(answer.status, answer.data) }));
    return;
  }
  $("admin-queue-live").textContent = say("handled.done");
  if (hooks.changed) hooks.changed(); // the record of what coordinators did
  await refreshQueue();
  $("admin-queue-title").focus(); // its row is gone: focus stays in the queue's part
}

function fillRow(row, item, now) {
  const words = [[row.kind, kindText(item.kind)], [row.room, say("inRoom", {
    room: roomName(item.room) })], [row.age, ageText(item.at, now)],
  [row.note, item.note ? say("note", { note: String(item.note) }) : ""],
  [row.handled, say("handled")]];
  for (const [node, text] of words) if (node.textContent !== text) node.textContent = text;
  row.note.hidden = !item.note;
  const label = say("handled.label", { kind: kindText(item.kind).toLowerCase(),
    room: say("inRoom", { room: roomName(item.room) }) });
  if (row.handled.getAttribute("aria-label") !== label) row.handled.setAttribute("aria-label", label);
  const at = Date.parse(item.at);
  if (Number.isFinite(at) && row.age.dateTime !== item.at) {
    row.age.dateTime = item.at;
    row.age.title = whenFmt.format(new Date(at));
  }
}

function summary(text) {
  if ($("admin-queue-summary").textContent !== text) $("admin-queue-summary").textContent = text;
}

async function refreshQueue() {
  if (loading || !hooks) return;
  loading = true;
  try {
    const answer = await api("GET", "/api/admin/queue");
    if (!hooks) return; // signed out meanwhile
    if (answer.status === 401 || answer.status === 403) {
      hooks.refused(answer, say("failed", { why: "" }).trim());
      return;
    }
    if (!answer.ok || !Array.isArray(answer.data)) {
      // Said where the queue is, not read out every few seconds; the list stays as it was.
      summary(say("failed", { why: errorSentence(answer.status, answer.data) }));
      return;
    }
    const items = answer.data.filter((i) => i && typeof i === "object");
    const now = Date.now();
    syncList($("admin-queue"), rows, items, itemKey, makeRow, (row, i) => fillRow(row, i, now));
    summary(queueSummary(items));
    if (known !== null) {
      const news = alertNews(newAlerts(known, items), roomName);
      if (news) {
        // Emptied first: the same words for the next alert in the same room are read again.
        $("admin-queue-live").textContent = "";
        setTimeout(() => { $("admin-queue-live").textContent = news; }, 60);
      }
    }
    known = new Set(items.map(itemKey));
  } finally {
    loading = false;
  }
}

/** Signed in and on screen: the queue now and every few seconds while the page is shown. */
export function startQueue(given) {
  hooks = given;
  stopQueue();
  refreshQueue();
  timer = setInterval(() => {
    if (!document.hidden) refreshQueue();
  }, QUEUE_MS);
}

/** Off screen: no more asking. */
export function stopQueue() {
  clearInterval(timer);
  timer = null;
}

/** Signed out: nothing of the queue is left on screen. */
export function clearQueue() {
  stopQueue();
  hooks = null;
  known = null;
  rows.clear();
  $("admin-queue").replaceChildren();
  $("admin-queue-summary").textContent = "";
  $("admin-queue-live").textContent = "";
}
