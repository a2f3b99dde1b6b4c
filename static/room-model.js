// The room on screen as this client knows it, and what each frame changes in it: presence,
// room_state, room_updated, hands, messages, deleted, session_ended. Pure (no DOM, no network,
// no clock), so `node --test` checks it; the view modules read the model and draw, and use what these
// functions return to decide what to announce.

import { t } from "./i18n.js";

/** A room just entered. `role` is the socket's role; `joined` may narrow it for this room. */
export function newRoom(id, role) {
  return {
    id, joined: false, everJoined: false, participant: null, handle: null,
    rulesVersion: 1, agreedVersion: 0,
    messages: new Map(), // id -> message frame, in the order they were put in
    deleted: new Set(), // ids a facilitator deleted (the frame stays: its handle is still named)
    participants: new Map(), queue: new Map(), mutedUntil: null, muteReason: "",
    removed: false, slow: 0, locked: false, paused: false, waiting: false, members: 0,
    muting: new Map(), // participant -> until (ms), what this facilitator did
    role, // this room's role (a facilitator's token may not cover every room)
    listening: false, // listen-only: chosen by the member, asked for again after a reconnect
    hands: [], // raised hands, in order (participant ids)
    turn: null, // who was called on
    spoke: false, // the member called on has sent since
    oneAtATime: false, facilitatorPresent: false,
    foreign: new Set(), // others' conversations, seen only while this tab was a facilitator
    supportFor: null, // the conversation whose crisis resources are on their way
    // Owned by the view modules, not by these functions: the drawn message items
    // (id -> element, messages.js) and the private threads (conversation -> thread, private.js).
    items: new Map(),
    threads: new Map(),
  };
}

/** A member here, as opposed to a facilitator (whose tools differ). */
export function isMember(room) {
  return room.role !== "facilitator";
}

/** A participant's handle: from presence, else from a message of theirs, else a placeholder. */
export function handleOf(room, pid) {
  const p = room.participants.get(pid);
  if (p) return p.handle;
  for (const m of room.messages.values()) {
    if (String(m.participant || "") === pid) return String(m.handle || t("msg.Someone"));
  }
  return t("private.someone");
}

/** Whether "Facilitator here" shows: the last room_state said so, or one is present. */
export function facilitatorHere(room) {
  return room.facilitatorPresent || hasFacilitator(room);
}

function hasFacilitator(room) {
  return [...room.participants.values()].some((p) => p.role === "facilitator");
}

/** Count the facilitators present again (one left, or lost standing). */
export function recountFacilitators(room) {
  room.facilitatorPresent = hasFacilitator(room);
}

/**
 * `presence` (join, leave, update). Returns `demoted` when it says this very participant is a
 * member now (standing ended while the socket lives).
 */
export function applyPresence(room, f) {
  const was = room.participants.get(f.participant);
  let demoted = false;
  if (f.event === "leave") room.participants.delete(f.participant);
  else if (f.participant) {
    room.participants.set(f.participant, { participant: f.participant, handle: f.handle,
      role: f.role, listening: Boolean(f.listening), muted: f.muted });
    if (f.participant === room.participant && f.role === "member" && room.role !== "member") {
      room.role = "member";
      demoted = true;
    }
  }
  // A facilitator gone or no longer one: "Facilitator here" follows the people present, not
  // only the last `room_state` (which need not come when standing ends in an open room).
  if (was && was.role === "facilitator" && (f.event === "leave" || f.role !== "facilitator")) {
    recountFacilitators(room);
  }
  if (typeof f.members === "number") room.members = f.members;
  return { demoted };
}

/**
 * `room_state`. Returns what changed that the person is told about: `paused`, `slow`,
 * `waitingStarted`, `turn` (changed), `myTurn` (it just became this participant's turn) and
 * `rulesChanged` (a new rules version after this participant had agreed).
 */
export function applyRoomState(room, f) {
  const was = { slow: room.slow, paused: room.paused, waiting: room.waiting, turn: room.turn };
  room.locked = Boolean(f.locked);
  room.slow = Number(f.slow) || 0;
  room.paused = Boolean(f.paused);
  room.waiting = Boolean(f.waiting);
  room.oneAtATime = Boolean(f.one_at_a_time);
  if (typeof f.facilitator_present === "boolean") room.facilitatorPresent = f.facilitator_present;
  room.turn = typeof f.turn === "string" && f.turn ? f.turn : null;
  const turn = was.turn !== room.turn;
  if (turn) room.spoke = false;
  const rulesChanged = takeRulesVersion(room, f.rules_version);
  return {
    paused: was.paused !== room.paused,
    slow: was.slow !== room.slow,
    waitingStarted: room.waiting && !was.waiting,
    turn,
    myTurn: turn && room.turn !== null && room.turn === room.participant,
    rulesChanged,
  };
}

// A rules version from the server: true when it is newer than the one this participant had
// agreed to (they agree again before writing).
function takeRulesVersion(room, given) {
  const version = Number(given) || room.rulesVersion;
  const rulesChanged = version > room.rulesVersion && room.agreedVersion > 0;
  room.rulesVersion = Math.max(room.rulesVersion, version);
  return rulesChanged;
}

/**
 * `room_updated`: a coordinator changed the room's definition. Returns `rulesChanged` (a new
 * rules version after this participant had agreed: the agreement no longer holds).
 */
export function applyRoomUpdated(room, f) {
  if (typeof f.one_at_a_time === "boolean") room.oneAtATime = f.one_at_a_time;
  return { rulesChanged: takeRulesVersion(room, f.rules_version) };
}

/** `hands`: the queue in order. Returns the hands newly raised by others, in order. */
export function applyHands(room, f) {
  const before = room.hands;
  room.hands = (Array.isArray(f.queue) ? f.queue : []).map(String);
  return room.hands.filter((p) => !before.includes(p) && p !== room.participant);
}

/** Where a `message` frame goes: "room", "private" (a conversation) or "ignore". */
export function messageTarget(room, f) {
  if (typeof f.conversation === "string" && f.conversation) {
    return room.foreign.has(f.conversation) ? "ignore" : "private";
  }
  return "room";
}

/**
 * Take in a room message. Returns null when it is not new (a repeat or no id); otherwise its
 * `id` and `before`: the id of the earliest later message already in (ids increase, so a
 * replayed message that arrives late goes in its place), or null to go at the end.
 */
export function addMessage(room, m) {
  const id = Number(m.id);
  if (!Number.isFinite(id) || room.messages.has(id)) return null;
  let before = null;
  for (const k of room.messages.keys()) if (k > id && (before === null || k < before)) before = k;
  room.messages.set(id, m);
  return { id, before };
}

/** `deleted`: true when the message is here to be marked. */
export function deleteMessage(room, messageId) {
  const id = Number(messageId);
  if (!room.messages.has(id)) return false;
  room.deleted.add(id);
  return true;
}

/** The words a message shows now (a deleted one says so), for quoting it. */
export function shownText(room, id) {
  if (room.deleted.has(id)) return t(DELETED_KEY);
  const m = room.messages.get(id);
  return m ? String(m.text ?? "") : "";
}

export const DELETED_KEY = "msg.deleted"; // what a deleted message says instead

/** The log starts again: `session_ended`, `room_reset`, or a join that did not recover. */
export function clearMessages(room) {
  room.messages.clear();
  room.deleted.clear();
}
