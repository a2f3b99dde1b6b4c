// The coordinator console (`#/console`): sign in with a coordinator token (kept in this tab's
// sessionStorage only), invite facilitators and hand them a sign-in link, see who is online,
// revoke with a confirmation; it starts the queue across rooms (console-queue.js), the rooms
// (console-rooms.js) and the record of what coordinators did (console-audit.js). It speaks the
// admin API (`/api/admin/…`, docs/coordinators.md) over fetch on the page's own origin; the
// words are console-model.js.

import {
  durationHours, errorSentence, expiryText, roomsText, signInLink, statusOf, statusText,
} from "./console-model.js";
import { api, token } from "./console-api.js";
import { clearAudit, loadAudit } from "./console-audit.js";
import { confirmFirst } from "./console-confirm.js";
import { syncList } from "./console-list.js";
import { hideOutcomes, showOutcomes } from "./console-outcomes.js";
import { clearQueue, startQueue, stopQueue } from "./console-queue.js";
import { clearRooms, showRooms } from "./console-rooms.js";
import { COORD_KEY } from "./device.js";
import { $, button, el } from "./dom.js";
import { t } from "./i18n.js";
import { announce } from "./notices.js";
import { removeItem, setItem } from "./storage.js";

const REFRESH_MS = 5000;
const rows = new Map(); // facilitator id -> its list item and parts, kept so focus survives
const roomNames = new Map(); // room id -> name, from /api/rooms
let pollTimer = null;
let loading = false;
let wired = false;

function say(text, urgent) {
  const box = $("console-status");
  box.textContent = text;
  box.classList.toggle("error", Boolean(urgent));
  if (urgent) announce(text);
}

// A refusal from the API: said plainly; a token that stopped working signs the tab out.
function refused(answer, what) {
  const text = `${what} ${errorSentence(answer.status, answer.data)}`;
  if (answer.status === 401 || answer.status === 403) signOut(text);
  else say(text, true);
}

// What the other parts of the console are given: a refusal said (or signed out), and a change
// made there, after which the invite form's rooms and the record are loaded again.
const hooks = {
  refused: (answer, what) => refused(answer, what),
  changed: () => {
    loadRooms();
    loadAudit(hooks);
  },
};

// The rooms first: the queue and the record name rooms by them.
async function startParts() {
  await showRooms(hooks);
  if (!token()) return; // signed out meanwhile
  startQueue(hooks);
  loadAudit(hooks);
  showOutcomes(token());
}

function showSignedIn(signedIn) {
  $("console-signed-in").hidden = !signedIn;
  $("console-signed-out").hidden = signedIn;
}

function signOut(text) {
  removeItem("session", COORD_KEY);
  stopPolling();
  clearQueue();
  clearRooms();
  clearAudit();
  rows.clear();
  $("console-list").replaceChildren();
  $("invite-result").hidden = true;
  $("invite-link").value = "";
  hideOutcomes();
  showSignedIn(false);
  say(text || t("console.signedOut"), Boolean(text));
  $("console-token").focus();
}

async function signIn(ev) {
  ev.preventDefault();
  const given = $("console-token").value.trim();
  if (!given) return;
  setItem("session", COORD_KEY, given);
  $("console-token").value = "";
  say(t("console.signingIn"));
  const answer = await api("GET", "/api/admin/facilitators");
  if (!answer.ok) {
    removeItem("session", COORD_KEY);
    say(`${t("console.notSignedIn")} ${errorSentence(answer.status, answer.data)}`, true);
    $("console-token").focus();
    return;
  }
  showSignedIn(true);
  say(t("console.signedIn"));
  render(answer.data);
  loadRooms();
  startPolling();
  startParts();
  $("admin-queue-title").focus();
}

// ---------- the facilitator list ----------

function makeRow(record) {
  const name = el("h3", { className: "fac-name", tabindex: "-1" });
  const status = el("span", { className: "badge fac-status" });
  const rooms = el("dd");
  const expires = el("dd");
  const revoke = button("console.revoke", () => askRevoke(row.record), { className:
    "button small danger" });
  const item = el("li", { className: "console-fac", dataset: { id: record.id } },
    el("div", { className: "fac-head" }, name, status),
    el("dl", { className: "fac-facts" }, el("dt", { t: "console.invite.rooms" }), rooms,
      el("dt", { t: "console.accessUntil" }), expires),
    revoke);
  const row = { item, name, status, rooms, expires, revoke, record };
  return row;
}

function fillRow(row, record, now) {
  row.record = record;
  row.name.textContent = record.name;
  const status = statusOf(record, now);
  row.status.textContent = statusText(record, now);
  row.status.dataset.status = status;
  row.rooms.textContent = roomsText(record.rooms, roomNames);
  row.expires.textContent = expiryText(record.expires, now);
  const canRevoke = status !== "revoked" && status !== "expired";
  row.revoke.hidden = !canRevoke;
  row.revoke.setAttribute("aria-label", t("console.revoke.label", { name: record.name }));
}

function render(list) {
  if (!Array.isArray(list)) return;
  const now = Date.now();
  syncList($("console-list"), rows, list,
    (r) => (typeof r.id === "string" ? r.id : null), makeRow, (row, r) => fillRow(row, r, now));
  $("console-list-empty").hidden = rows.size > 0;
}

async function refresh() {
  if (loading || !token()) return;
  loading = true;
  try {
    const answer = await api("GET", "/api/admin/facilitators");
    if (!token()) return; // signed out meanwhile
    if (answer.ok) render(answer.data);
    else refused(answer, t("console.list.failed"));
  } finally {
    loading = false;
  }
}

function startPolling() {
  stopPolling();
  pollTimer = setInterval(refresh, REFRESH_MS);
}
function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

// ---------- revoking ----------

async function askRevoke(record) {
  const yes = await confirmFirst(t("console.revoke.title"),
    t("console.revoke.what", { name: record.name }), t("console.revoke.confirm"));
  if (!yes) return;
  const answer = await api("DELETE", `/api/admin/facilitators/${encodeURIComponent(record.id)}`);
  if (!answer.ok && answer.status !== 404) {
    refused(answer, t("console.revoke.failed", { name: record.name }));
    return;
  }
  say(t("console.revoke.done", { name: record.name }));
  loadAudit(hooks);
  await refresh();
  const row = rows.get(record.id);
  if (row) row.name.focus();
}

// ---------- inviting ----------

async function loadRooms() {
  let rooms;
  try {
    const res = await fetch("/api/rooms", { headers: { accept: "application/json" } });
    if (!res.ok) throw new Error(String(res.status));
    rooms = await res.json();
  } catch {
    $("invite-room-list").replaceChildren(el("p", { className: "muted",
      text: t("console.rooms.failed") }));
    return;
  }
  if (!Array.isArray(rooms)) return;
  const ticked = new Set([...document.querySelectorAll("#invite-room-list input:checked")]
    .map((b) => b.value));
  roomNames.clear();
  const boxes = [];
  for (const room of rooms) {
    if (!room || typeof room.id !== "string") continue;
    roomNames.set(room.id, String(room.name || room.id));
    boxes.push(el("label", {}, el("input", { type: "checkbox", name: "invite-room",
      value: room.id, checked: ticked.has(room.id) }), ` ${roomNames.get(room.id)}`));
  }
  $("invite-room-list").replaceChildren(...boxes);
  for (const row of rows.values()) row.rooms.textContent = roomsText(row.record.rooms, roomNames);
}

function inviteProblem(text) {
  const p = $("invite-problem");
  p.textContent = text || "";
  p.hidden = !text;
  if (text) announce(text);
}

async function invite(ev) {
  ev.preventDefault();
  const name = $("invite-name").value.trim();
  if (!name) {
    inviteProblem(t("console.invite.noName"));
    $("invite-name").focus();
    return;
  }
  const some = document.querySelector('input[name="invite-scope"]:checked').value === "some";
  const rooms = some ? [...document.querySelectorAll("#invite-room-list input:checked")]
    .map((b) => b.value) : null;
  if (some && rooms.length === 0) {
    inviteProblem(t("console.invite.noRooms"));
    return;
  }
  const hours = durationHours($("invite-amount").value, $("invite-unit").value);
  if (hours === null) {
    inviteProblem(t("console.invite.badTime"));
    $("invite-amount").focus();
    return;
  }
  inviteProblem("");
  const answer = await api("POST", "/api/admin/facilitators", { name, rooms, hours });
  if (!answer.ok || !answer.data || typeof answer.data.token !== "string") {
    if (answer.status === 401 || answer.status === 403) {
      refused(answer, t("console.invite.failed"));
    } else {
      inviteProblem(`${t("console.invite.failed")} ${errorSentence(answer.status, answer.data)}`);
    }
    return;
  }
  const made = answer.data;
  $("invite-link").value = signInLink(location.origin, made.token);
  $("invite-result-about").textContent = t("console.invite.made", { name: made.name,
    rooms: roomsText(made.rooms, roomNames), until: expiryText(made.expires, Date.now()) });
  $("invite-result").hidden = false;
  $("invite-form").reset();
  say(t("console.link.made", { name: made.name }));
  $("invite-result-title").focus();
  refresh();
  loadAudit(hooks);
}

async function copyLink() {
  const input = $("invite-link");
  let copied = false;
  try {
    await navigator.clipboard.writeText(input.value);
    copied = true;
  } catch {
    // No clipboard access (an http page that is not localhost): select it to copy by hand.
    input.focus();
    input.select();
  }
  say(t(copied ? "console.link.copied" : "console.link.selected"));
}

function inviteDone() {
  $("invite-result").hidden = true;
  $("invite-link").value = ""; // the token is not left on screen
  say("");
  $("invite-name").focus();
}

function wire() {
  if (wired) return;
  wired = true;
  $("console-signin").addEventListener("submit", signIn);
  $("console-signout").addEventListener("click", () => signOut());
  $("invite-form").addEventListener("submit", invite);
  $("invite-copy").addEventListener("click", copyLink);
  $("invite-done").addEventListener("click", inviteDone);
  // "Parts of the console": a part's heading takes the focus (and scrolls into view).
  for (const b of document.querySelectorAll("[data-jump]")) {
    b.addEventListener("click", () => $(b.dataset.jump).focus());
  }
  // Ticking a room means "only these rooms".
  $("invite-room-list").addEventListener("change", (ev) => {
    if (ev.target.checked) document.querySelector('input[name="invite-scope"][value="some"]')
      .checked = true;
  });
}

/** The console is on screen: signed in, the list and refreshing; otherwise the sign-in. */
export function showConsole() {
  wire();
  const signedIn = Boolean(token());
  showSignedIn(signedIn);
  if (signedIn) {
    refresh();
    loadRooms();
    startPolling();
    startParts();
  }
}

/** The console left the screen: no more refreshing. */
export function hideConsole() {
  stopPolling();
  stopQueue();
}
