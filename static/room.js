// A room: entering and leaving it, joining (again, with `since`, after a reconnect; a full
// room's refusal goes to room-full.js), agreeing to its rules, and the frames that change it
// for everyone (presence, room_state, session end) or for this member (muted, removed, crisis
// support).

import { showMuted, showCw, updateComposer } from "./composer.js";
import { AGREED_PREFIX } from "./device.js";
import { stopRoomsPoll } from "./directory.js";
import { $, body, button, el } from "./dom.js";
import { fmtUntil, minutesLeft, parseTime } from "./format.js";
import { renderParticipants, renderQueue } from "./facilitator.js";
import { openHelp, resourceItems } from "./help.js";
import { localize, setText, t, words } from "./i18n.js";
import { addMessages, markDeleted, resetLog } from "./messages.js";
import { offerCheckIn, offerCheckOut, resetMood } from "./mood.js";
import { request, send } from "./network.js";
import { announce, clearNotice, failed, setNotice, setStatus } from "./notices.js";
import { addPrivateMessage, labelThread, onPrivateClosed, onPrivateOpened } from "./private.js";
import * as recovery from "./recovery.js";
import { showRoomFull } from "./room-full.js";
import { applyPresence, applyRoomState, messageTarget, newRoom } from "./room-model.js";
import {
  askToAgreeAgain, refreshRoomInfo, renderMembers, renderRules, renderTurn, renderWaiting,
  roomLanguage, showRules,
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
  if (known) setText($("room-title"), known.name);
  else localize($("room-title"), words("room.joining"));
  setText($("room-desc"), known ? known.description : "");
  setText($("room-members"), "");
  roomLanguage(cur);
  if (!known) refreshRoomInfo(cur); // opened by its address: learn its language
  $("room-flags").replaceChildren();
  $("room-notices").replaceChildren();
  $("identity").hidden = true;
  $("rules").hidden = true;
  $("rules-show").hidden = true;
  $("support").hidden = true;
  $("composer").hidden = true;
  $("message-input").value = "";
  setStatus(null);
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
  // `since` recovers a dropped connection's gap; coming back on purpose draws the room anew
  // (its screen is gone), so the whole history is asked for again.
  recovery.ended(S.memory, cur.id);
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
      setNotice("join", words("join.locked"), "warn");
    } else if (err.code === "room_full") {
      showRoomFull(cur, err); // back to the directory, with where there is space
    } else if (err.code === "not_found") {
      localize($("room-title"), words("join.notFound.title"));
      setNotice("join", words("join.notFound"), "warn");
    } else if (err.code === "unavailable") {
      setNotice("join", words("join.busy"), "warn");
      setTimeout(() => { if (S.cur === cur && S.welcomed && !cur.joined) joinRoom(); }, 3000);
    } else {
      setNotice("join", failed(err, "join.failed"), "warn");
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
  setText($("room-title"), (known && known.name) || f.name || cur.id);
  if (typeof f.description === "string") setText($("room-desc"), f.description);
  roomLanguage(cur);
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
    setNotice("gap", words("join.gap"), "warn", true);
    announce(t("join.gap.said"));
  } else if (incremental) {
    clearNotice("gap");
    if (history.length > 0) {
      setStatus(words("join.recovered", { count: history.length }));
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
    setNotice("slow", words("room.slow", { count: cur.slow }), "info");
  } else {
    clearNotice("slow");
  }
  if (changed.paused && cur.joined) {
    announce(t(cur.paused ? "room.paused.said" : "room.resumed.said"));
  } else if (changed.slow && cur.joined) {
    announce(t(cur.slow > 0 ? "room.slow.on" : "room.slow.off"));
  }
  if (cur.locked) setNotice("locked", words("room.locked"), "info");
  else clearNotice("locked");
  if (cur.paused) setNotice("paused", words("room.paused"), "warn");
  else clearNotice("paused");
  if (cur.waiting) {
    renderWaiting(cur);
    if (changed.waitingStarted) refreshRoomInfo(cur);
  } else {
    clearNotice("waiting");
  }
  if (changed.myTurn && cur.joined) announce(t("turn.yours.said"));
  if (changed.rulesChanged) askToAgreeAgain();
  localize($("lock-toggle"), words(cur.locked ? "panel.unlock" : "panel.lock"));
  localize($("pause-toggle"), words(cur.paused ? "panel.resume" : "panel.pause"));
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
  announce(t("mute.said", { count: minutesLeft(cur.mutedUntil, Date.now()) }));
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
  const say = () => [t("removed.text"),
    until ? t("removed.until", { time: fmtUntil(until, Date.now()) }) : "",
    reason ? t("removed.reason", { reason }) : ""].filter(Boolean).join(" ");
  const links = el("p", {}, el("a", { href: "#/", t: "removed.another" }), " · ",
    button("removed.help", openHelp, { className: "link-button" }));
  setNotice("removed", say, "alert", false, links);
  announce(say);
  updateComposer();
}

function onSupport(f, cur) {
  const thread = cur.supportFor ? cur.threads.get(cur.supportFor) : null;
  cur.supportFor = null;
  if (thread && !thread.closed) {
    // Sent with a private conversation: the resources belong in that thread.
    thread.support.replaceChildren(el("p", { t: "support.private.about" }),
      el("ul", {}, ...supportItems(f)));
    thread.support.hidden = false;
    return;
  }
  $("support-list").replaceChildren(...supportItems(f));
  $("support").hidden = false;
  announce(t("support.said"));
}

// The lines the server sent (that country's first); should it send none, the built-in ones.
function supportItems(f) {
  const items = resourceItems(f.resources);
  if (items.length === 0) {
    items.push(el("li", { t: "support.fallback" }, el("a", { href: "tel:988", text: "988",
      dataset: { slot: "call" } }), el("a", { href: "https://findahelpline.com",
      target: "_blank", rel: "noopener noreferrer", text: "findahelpline.com",
      dataset: { slot: "link" } })));
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
    setNotice("unmuted", words("mute.lifted"), "info", true);
    announce(t("mute.lifted.said"));
    updateComposer();
  },
  removed: (f, cur) => showRemoved(cur, parseTime(f.until),
    typeof f.reason === "string" ? f.reason : ""),
  support: onSupport,
  session_ended: (f, cur) => {
    offerCheckOut(cur, S.memory.get(cur.id)?.epoch); // the session that ended
    resetLog(cur);
    recovery.ended(S.memory, cur.id);
    setNotice("ended", words("session.ended"), "info", true);
    announce(t("session.ended.said"));
  },
  room_reset: (f, cur) => {
    resetLog(cur);
    recovery.reset(S.memory, cur.id, f.epoch);
    setNotice("reset", words("room.reset"), "warn", true);
  },
  private_opened: onPrivateOpened,
  private_closed: onPrivateClosed,
};
