// A room: entering and leaving it, joining (again, with `since`, after a reconnect), agreeing
// to its rules, and the frames that change it for everyone (presence, room_state, session
// end) or for this member (muted, removed, crisis support).

import { showMuted, showCw, updateComposer } from "./composer.js";
import { AGREED_PREFIX } from "./device.js";
import { stopRoomsPoll } from "./directory.js";
import { $, body, button, el, openHelp } from "./dom.js";
import { fmtUntil, minutesLeft, parseTime, plural } from "./format.js";
import { renderParticipants, renderQueue } from "./facilitator.js";
import { addMessages, markDeleted, resetLog } from "./messages.js";
import { offerCheckIn, offerCheckOut, resetMood } from "./mood.js";
import { request, send } from "./network.js";
import { announce, clearNotice, setNotice, setStatus } from "./notices.js";
import { addPrivateMessage, labelThread, onPrivateClosed, onPrivateOpened } from "./private.js";
import * as recovery from "./recovery.js";
import { applyPresence, applyRoomState, messageTarget, newRoom } from "./room-model.js";
import {
  askToAgreeAgain, refreshRoomInfo, renderMembers, renderRules, renderTurn, renderWaiting,
  showRules,
} from "./room-view.js";
import { S } from "./state.js";
import { getItem, setItem } from "./storage.js";
import { renderHands, renderMemberTools, setListening } from "./taking-part.js";
import { showView } from "./views.js";

export function enterRoom(id) {
  if (S.cur && S.cur.id === id) return;
  leaveRoom();
  stopRoomsPoll();
  const cur = newRoom(id, S.role);
  S.cur = cur;
  showView("room");
  const known = S.catalog.get(id);
  $("room-title").textContent = known ? known.name : "Joining…";
  $("room-desc").textContent = known ? known.description : "";
  $("room-members").textContent = "";
  $("room-flags").replaceChildren();
  $("room-notices").replaceChildren();
  $("identity").hidden = true;
  $("rules").hidden = true;
  $("rules-show").hidden = true;
  $("support").hidden = true;
  $("composer").hidden = true;
  $("message-input").value = "";
  $("composer-status").textContent = "";
  $("audit").hidden = true;
  $("private-threads").replaceChildren();
  $("cw-input").value = "";
  showCw(false);
  resetLog(cur);
  resetMood();
  renderMemberTools(cur);
  renderHands(cur);
  renderParticipants(cur);
  renderQueue(cur);
  body.dataset.roomState = "joining";
  if (S.welcomed) joinRoom();
}

export function leaveRoom() {
  const cur = S.cur;
  if (!cur) return;
  if (cur.joined && S.welcomed) send({ type: "leave", room: cur.id });
  S.inRooms.delete(cur.id);
  S.cur = null;
  body.dataset.roomState = "none";
}

export function joinRoom() {
  const cur = S.cur;
  body.dataset.roomState = "joining";
  request(recovery.joinFrame(S.memory, cur.id), () => {}, (err) => {
    if (S.cur !== cur) return;
    if (err.code === "disconnected") return;
    body.dataset.roomState = "error";
    if (err.code === "banned") {
      showRemoved(cur, parseTime(err.until), null);
    } else if (err.code === "locked") {
      setNotice("join", "This room is locked right now: no one new can join. Please try " +
        "again later or choose another room.", "warn");
    } else if (err.code === "not_found") {
      $("room-title").textContent = "Room not found";
      setNotice("join", "There is no room here. It may have been closed.", "warn");
    } else if (err.code === "unavailable") {
      setNotice("join", "The service is busy. Trying again…", "warn");
      setTimeout(() => { if (S.cur === cur && S.welcomed && !cur.joined) joinRoom(); }, 3000);
    } else {
      setNotice("join", `Could not join: ${err.message || err.code}.`, "warn");
    }
  });
}

function onJoined(f, cur) {
  cur.joined = true;
  cur.everJoined = true;
  S.inRooms.add(cur.id);
  cur.participant = f.participant;
  cur.handle = f.handle;
  cur.role = f.role === "facilitator" || f.role === "member" ? f.role : S.role;
  cur.rulesVersion = Number(f.rules_version) || 1;
  clearNotice("join");
  const known = S.catalog.get(cur.id);
  $("room-title").textContent = (known && known.name) || f.name || cur.id;
  if (typeof f.description === "string") $("room-desc").textContent = f.description;
  $("my-handle").textContent = f.handle;
  $("identity").hidden = false;
  renderRules(Array.isArray(f.rules) ? f.rules : []);

  cur.participants.clear();
  for (const p of f.participants || []) cur.participants.set(p.participant, p);
  cur.members = Number(f.members) || cur.participants.size;
  renderMembers(cur);
  renderParticipants(cur);

  const history = Array.isArray(f.history) ? f.history : [];
  const { incremental, gap } = recovery.joined(S.memory, cur.id, f);
  if (!incremental) resetLog(cur);
  addMessages(cur, history, false);
  if (gap) {
    setNotice("gap", "You were disconnected, and some messages from that time could not " +
      "be recovered. What you see now is the room's history as it is kept.", "warn", true);
    announce("Reconnected. Some messages could not be recovered.");
  } else if (incremental) {
    clearNotice("gap");
    if (history.length > 0) {
      setStatus(`Reconnected. ${plural(history.length, "message")} you missed ` +
        `${history.length === 1 ? "is" : "are"} shown.`);
    }
  }

  // The server remembers whether this participant agreed to the current rules version
  // (`agreed`). When it does not know (an older server, or one that lost its data on a
  // restart) but this tab agreed to this very version, agree again without asking. Frames
  // are read in order, so the `agree` lands before anything typed next.
  const agreed = Number(getItem("session", AGREED_PREFIX + cur.id)) || 0;
  if (f.agreed === true) {
    cur.agreedVersion = cur.rulesVersion;
    setItem("session", AGREED_PREFIX + cur.id, String(cur.rulesVersion));
    showRules(false);
  } else if (agreed >= cur.rulesVersion) {
    cur.agreedVersion = agreed;
    showRules(false);
    agree(cur, true);
  } else {
    cur.agreedVersion = 0;
    showRules(true);
  }
  // Listen-only belongs to the connection: ask for it again after a reconnect.
  if (cur.listening) setListening(cur, true, true);
  body.dataset.roomState = "joined";
  renderMemberTools(cur);
  updateComposer();
  if (S.role === "facilitator") $("fac-panel").hidden = false;
  offerCheckIn(cur, f.epoch); // "How are you feeling right now?", once per session
}

/** Send `agree`; `silent` when agreeing again by itself after a reconnect. */
export function agree(cur, silent) {
  request({ type: "agree", room: cur.id }, () => {
    if (S.cur !== cur) return;
    cur.agreedVersion = cur.rulesVersion;
    setItem("session", AGREED_PREFIX + cur.id, String(cur.rulesVersion));
    showRules(false);
    clearNotice("rules");
    renderMemberTools(cur);
    updateComposer();
    if (!silent && !$("message-input").disabled) $("message-input").focus();
    else if (!silent) $("member-tools").querySelector("button:not([hidden])")?.focus();
  });
}

function onPresence(f, cur) {
  const { demoted } = applyPresence(cur, f);
  if (demoted) {
    // Standing ended while the socket lives (`facilitator_ended`); the server then tells the
    // room, this tab included, that this participant is a member.
    renderMemberTools(cur);
    updateComposer();
  }
  renderMembers(cur);
  renderParticipants(cur);
  renderHands(cur);
  renderTurn(cur);
  for (const t of cur.threads.values()) labelThread(cur, t);
}

function onRoomState(f, cur) {
  const changed = applyRoomState(cur, f);
  if (cur.slow > 0) {
    setNotice("slow", `Slow mode is on: each person can write once every ` +
      `${plural(cur.slow, "second")}.`, "info");
  } else {
    clearNotice("slow");
  }
  if (changed.paused && cur.joined) {
    announce(cur.paused ? "A facilitator has paused the room for a moment." :
      "The room has resumed.");
  } else if (changed.slow && cur.joined) {
    announce(cur.slow > 0 ? "Slow mode is on." : "Slow mode is off.");
  }
  if (cur.locked) setNotice("locked", "The room is locked: no one new can join for now.",
    "info");
  else clearNotice("locked");
  if (cur.paused) setNotice("paused", "A facilitator has paused the room for a moment. " +
    "Take a breath; the conversation will continue shortly.", "warn");
  else clearNotice("paused");
  if (cur.waiting) {
    renderWaiting(cur);
    if (changed.waitingStarted) refreshRoomInfo(cur);
  } else {
    clearNotice("waiting");
  }
  if (changed.myTurn && cur.joined) announce("It's your turn to share. Take your time.");
  if (changed.rulesChanged) askToAgreeAgain();
  $("lock-toggle").textContent = cur.locked ? "Unlock room" : "Lock room";
  $("pause-toggle").textContent = cur.paused ? "Resume room" : "Pause room";
  $("slow-select").value = String([0, 10, 30, 60, 120].includes(cur.slow) ? cur.slow : 0);
  renderMembers(cur);
  renderTurn(cur);
  renderHands(cur);
  updateComposer();
}

function onMuted(f, cur) {
  cur.mutedUntil = parseTime(f.until) || Date.now() + 15 * 60000;
  cur.muteReason = typeof f.reason === "string" ? f.reason : "";
  clearNotice("unmuted");
  showMuted(cur, cur.muteReason);
  announce(`You have been muted for ${plural(minutesLeft(cur.mutedUntil), "minute")}.`);
}

/** Removed or banned: out of the room, with when they may come back and a way onward. */
function showRemoved(cur, until, reason) {
  cur.removed = true;
  cur.joined = false;
  body.dataset.roomState = "removed";
  $("rules").hidden = true;
  $("rules-show").hidden = true;
  $("composer").hidden = true;
  $("fac-panel").hidden = true;
  renderMemberTools(cur);
  const when = until ? ` You can come back after ${fmtUntil(until)}.` : "";
  const text = `A facilitator has removed you from this room.${when}` +
    (reason ? ` Reason: ${reason}` : "");
  const links = el("p", {}, el("a", { href: "#/", text: "Find another room" }), " · ",
    button("Get help now", openHelp, { className: "link-button" }));
  setNotice("removed", text, "alert", false, links);
  announce(text);
  updateComposer();
}

function onSupport(f, cur) {
  const thread = cur.supportFor ? cur.threads.get(cur.supportFor) : null;
  cur.supportFor = null;
  if (thread && !thread.closed) {
    // Sent with a private conversation: the resources belong in that thread.
    thread.support.replaceChildren(el("p", { text: "If you need help right now, these " +
      "people are there for you, day and night:" }), el("ul", {}, ...resourceItems(f)));
    thread.support.hidden = false;
    return;
  }
  $("support-list").replaceChildren(...resourceItems(f));
  $("support").hidden = false;
  announce("A private message for you: help is available right now. It is shown above " +
    "the messages.");
}

function resourceItems(f) {
  const items = (Array.isArray(f.resources) ? f.resources : []).map((r) => {
    const contact = String(r.contact || "");
    let target = null;
    if (/^https?:\/\//.test(contact)) target = contact;
    else if (/^[+\d][\d\s-]{1,20}$/.test(contact)) target = `tel:${contact.replace(/[\s-]/g, "")}`;
    const c = target ? el("a", { href: target, rel: "noopener noreferrer",
      target: target.startsWith("http") ? "_blank" : null, text: contact }) :
      document.createTextNode(contact);
    return el("li", {}, el("strong", { text: String(r.name || "") }), ": ", c);
  });
  if (items.length === 0) {
    items.push(el("li", {}, "Call or text ", el("a", { href: "tel:988", text: "988" }),
      " in the US; elsewhere see ", el("a", { href: "https://findahelpline.com",
        target: "_blank", rel: "noopener noreferrer", text: "findahelpline.com" }), "."));
  }
  return items;
}

/** The frames about the room on screen, by type: each gets (frame, room). */
export const ROOM_HANDLERS = {
  joined: onJoined,
  message: (f, cur) => {
    const target = messageTarget(cur, f);
    if (target === "private") addPrivateMessage(cur, f);
    else if (target === "room") addMessages(cur, [f], true);
  },
  presence: onPresence,
  room_state: onRoomState,
  deleted: (f, cur) => markDeleted(cur, f.message_id),
  muted: onMuted,
  unmuted: (f, cur) => {
    cur.mutedUntil = null;
    clearNotice("muted");
    setNotice("unmuted", "A facilitator unmuted you. You can write again.", "info", true);
    announce("You can write again.");
    updateComposer();
  },
  removed: (f, cur) => showRemoved(cur, parseTime(f.until),
    typeof f.reason === "string" ? f.reason : ""),
  support: onSupport,
  session_ended: (f, cur) => {
    offerCheckOut(cur, S.memory.get(cur.id)?.epoch); // the session that ended
    resetLog(cur);
    recovery.ended(S.memory, cur.id);
    setNotice("ended", "This session has ended and the conversation was cleared for " +
      "everyone. Thank you for being here.", "info", true);
    announce("The session has ended.");
  },
  room_reset: (f, cur) => {
    resetLog(cur);
    recovery.reset(S.memory, cur.id, f.epoch);
    setNotice("reset", "The room's earlier messages were lost on the server and can't be " +
      "shown. New messages appear as usual.", "warn", true);
  },
  private_opened: onPrivateOpened,
  private_closed: onPrivateClosed,
};
