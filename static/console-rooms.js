// The coordinator console's rooms: every room as the admin API lists it, "New room" and
// "Edit" opening the room form (console-room-form.js), saving it (POST a new room; PUT only
// the changed fields of an edited one), a refusal said next to the form in a sentence (an edit
// that crossed another is reloaded and said so), and archiving after a confirmation.

import { api } from "./console-api.js";
import { confirmFirst } from "./console-confirm.js";
import { syncList } from "./console-list.js";
import { errorSentence } from "./console-model.js";
import { fillForm, markInvalid, readForm, rulesChanged, wireForm } from "./console-room-form.js";
import { roomChanges, roomFacts, sessionsText } from "./console-rooms-model.js";
import { wordsFor } from "./console-words.js";
import { $, button, el } from "./dom.js";
import { announce } from "./notices.js";

// The words: the message catalogues (static/i18n/), under this prefix.
const say = wordsFor("console.rooms");

const rooms = new Map(); // room id -> the room as the API listed it, in the list's order
const rows = new Map(); // room id -> its list item and parts
let loaded = false;
let hooks = null; // from console.js: refused(answer, what), changed()
let editing = null; // the id of the room in the form; "" for a new room; null: form closed
let opener = null; // the control that opened the form: focus goes back to it
let wired = false;

/** A room's name for other parts of the console; an id no longer listed says it is archived. */
export function roomName(id) {
  const room = rooms.get(id);
  if (room) return room.name;
  return loaded ? say("closed", { id }) : String(id);
}

function status(text) {
  $("admin-rooms-status").textContent = text;
}

function problem(text) {
  const box = $("room-form-problem");
  box.textContent = text;
  box.hidden = !text;
  if (text) announce(text);
}

// ---------- the list ----------

function makeRow(room) {
  const name = el("h3", { className: "fac-name", tabindex: "-1" });
  const meta = el("p", { className: "muted room-admin-meta" });
  const facts = el("p", { className: "room-admin-facts" });
  const sessions = el("ul", { className: "room-admin-sessions" });
  const edit = button(say("edit"), () => openForm(rooms.get(row.id), edit), {
    className: "button small" });
  const archive = button(say("archive"), () => askArchive(rooms.get(row.id)), {
    className: "button small danger" });
  const item = el("li", { className: "console-fac room-admin", dataset: { room: room.id } },
    name, meta, facts, sessions, el("div", { className: "control-row" }, edit, archive));
  const row = { id: room.id, item, name, meta, facts, sessions, edit, archive };
  return row;
}

function fillRow(row, room) {
  row.name.textContent = room.name;
  row.meta.textContent = say("meta", { id: room.id, category: room.category,
    language: room.language });
  row.facts.textContent = roomFacts(room);
  const lines = sessionsText(room.sessions);
  if ([...row.sessions.children].map((li) => li.textContent).join("\n") !== lines.join("\n")) {
    row.sessions.replaceChildren(...lines.map((text) => el("li", { text })));
  }
  row.edit.setAttribute("aria-label", say("editLabel", { name: room.name }));
  row.archive.setAttribute("aria-label", say("archiveLabel", { name: room.name }));
}

function render(list) {
  rooms.clear();
  for (const room of list) if (room && typeof room.id === "string") rooms.set(room.id, room);
  loaded = true;
  syncList($("admin-rooms"), rows, list, (r) => (typeof r.id === "string" ? r.id : null),
    makeRow, fillRow);
  $("admin-rooms-empty").hidden = rows.size > 0;
}

/** Load every room from the admin API; true when the list is up to date. */
async function loadRooms() {
  const answer = await api("GET", "/api/admin/rooms");
  if (answer.ok && Array.isArray(answer.data)) {
    render(answer.data);
    return true;
  }
  hooks.refused(answer, say("loadFailed"));
  return false;
}

// ---------- the form ----------

function openForm(room, from) {
  editing = room ? room.id : "";
  opener = from;
  fillForm(room || null);
  $("room-form-title").textContent = room ? say("title.edit", { name: room.name }) :
    say("title.new");
  $("room-save").textContent = room ? say("save.edit") : say("save.new");
  problem("");
  $("room-form").hidden = false;
  $("room-new").hidden = true;
  $("room-form-title").focus();
}

/** Close the form; focus goes to `focus`, else to what opened it (none when `quiet`). */
function closeForm(focus, quiet) {
  editing = null;
  $("room-form").hidden = true;
  $("room-new").hidden = false;
  problem("");
  const back = focus || opener;
  opener = null;
  if (quiet) return;
  if (back && document.contains(back)) back.focus();
  else $("room-new").focus();
}

async function save(ev) {
  ev.preventDefault();
  if (editing === null) return;
  const { room, problems } = readForm();
  const first = markInvalid(problems);
  if (problems.length) {
    problem(say("check", { count: problems.length,
      problems: problems.map((p) => p.text).join(" ") }));
    if (first) first.focus();
    return;
  }
  if (editing === "") await create(room);
  else await edit(editing, room);
}

// True for a success; else a token that stopped working signs out, and any other refusal is
// said next to the form after `what` ("The room was not created."), and focused.
function accepted(answer, what) {
  if (answer.ok) return true;
  if (answer.status === 401 || answer.status === 403) {
    hooks.refused(answer, what);
  } else {
    problem(`${what} ${errorSentence(answer.status, answer.data)}`);
    $("room-form-problem").focus();
  }
  return false;
}

// Saved: the list loaded again, the form closed, the room's heading focused, `text` said.
async function saved(id, text) {
  await loadRooms();
  const row = rows.get(id);
  closeForm(row ? row.name : null);
  status(text);
  hooks.changed();
}

async function create(room) {
  const answer = await api("POST", "/api/admin/rooms", room);
  if (accepted(answer, say("notCreated"))) {
    await saved(room.id, say("created", { name: room.name }));
  }
}

async function edit(id, room) {
  const listed = rooms.get(id);
  const changes = listed ? roomChanges(listed, room) : room;
  if (Object.keys(changes).length === 0) {
    problem(say("nothing"));
    return;
  }
  const newRules = rulesChanged();
  const answer = await api("PUT", `/api/admin/rooms/${encodeURIComponent(id)}`, changes);
  if (answer.status === 409 || answer.status === 404) {
    // Another edit landed first, or the room went: show the room as it is now, and say so.
    await loadRooms();
    const now = rooms.get(id);
    if (answer.status === 409 && now) fillForm(now);
    problem(answer.status === 409 && now ? say("conflict") : say("gone"));
    $("room-form-problem").focus();
    return;
  }
  if (accepted(answer, say("notSaved"))) {
    await saved(id, say(newRules ? "savedRules" : "saved", { name: room.name }));
  }
}

// ---------- archiving ----------

async function askArchive(room) {
  if (!room) return;
  const yes = await confirmFirst(say("archiveTitle"), say("archiveWhat", { name: room.name,
    id: room.id }), say("archiveConfirm"));
  if (!yes) return;
  const answer = await api("DELETE", `/api/admin/rooms/${encodeURIComponent(room.id)}`);
  if (!answer.ok && answer.status !== 404) {
    hooks.refused(answer, say("notArchived", { name: room.name }));
    return;
  }
  // Focus goes to the next room (or the list's heading), not lost with the removed row.
  const next = rows.get(room.id)?.item.nextElementSibling;
  if (editing === room.id) closeForm(null, true);
  await loadRooms();
  status(say("archived", { name: room.name }));
  const target = next && document.contains(next) ? next.querySelector("h3") :
    $("admin-rooms-title");
  target.focus();
  hooks.changed();
}

function wire() {
  if (wired) return;
  wired = true;
  wireForm();
  $("room-new").addEventListener("click", () => openForm(null, $("room-new")));
  $("room-cancel").addEventListener("click", () => closeForm(null));
  $("room-form").addEventListener("submit", save);
}

/** Signed in: the rooms listed (and kept for `roomName`); `given` are console.js's hooks. */
export function showRooms(given) {
  hooks = given;
  wire();
  return loadRooms();
}

/** Signed out: nothing of the rooms is left on screen. */
export function clearRooms() {
  if (editing !== null) closeForm(null, true);
  rooms.clear();
  rows.clear();
  loaded = false;
  $("admin-rooms").replaceChildren();
  status("");
}
