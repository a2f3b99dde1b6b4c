// Writing: whether each composer is open (the room's and each private thread's) and why not,
// the content warning field, sending, and what a refused or held message tells the writer.

import { $, body, el } from "./dom.js";
import { fmtUntil, minutesLeft, parseTime, plural } from "./format.js";
import { request } from "./network.js";
import { alertStatus, announce, clearNotice, setNotice, setStatus } from "./notices.js";
import { isMember } from "./room-model.js";
import { renderTurn, showRules } from "./room-view.js";
import { S } from "./state.js";

export function updateComposer() {
  const cur = S.cur;
  if (!cur) return;
  const input = $("message-input");
  const muted = cur.mutedUntil && cur.mutedUntil > Date.now();
  let reason = "";
  if (cur.removed) reason = "You can't write in this room right now";
  else if (cur.agreedVersion === 0 || cur.agreedVersion < cur.rulesVersion) {
    reason = cur.joined ? "Agree to the ground rules to write" : "Joining…";
  } else if (muted) reason = `You are muted until ${fmtUntil(cur.mutedUntil)}`;
  else if (cur.listening) reason = "You are listening";
  else if (cur.waiting && isMember(cur)) {
    reason = "Writing opens when a facilitator is here";
  } else if (cur.oneAtATime && isMember(cur) && cur.turn !== cur.participant) {
    reason = "One person speaks at a time: raise your hand and wait to be called on";
  }
  input.disabled = Boolean(reason);
  $("send").disabled = Boolean(reason);
  $("cw-toggle").disabled = Boolean(reason);
  $("cw-input").disabled = Boolean(reason);
  input.placeholder = reason || "Write a message. Enter sends, Shift+Enter adds a line.";
  $("composer").hidden = !cur.everJoined || cur.removed || cur.listening;
  body.dataset.composer = reason ? "closed" : "open";
  body.dataset.listening = cur.listening ? "true" : "false";
  for (const t of cur.threads.values()) updateThread(cur, t);
}

/** A private thread's composer: open while the thread is and the room is joined. */
export function updateThread(cur, t) {
  const off = t.closed || !S.welcomed || !cur.joined;
  t.input.disabled = off;
  t.sendBtn.disabled = off;
  t.form.hidden = t.closed;
}

export function showCw(open) {
  $("cw-row").hidden = !open;
  $("cw-toggle").setAttribute("aria-expanded", String(open));
  $("cw-toggle").textContent = open ? "Remove the content warning" : "Add a content warning";
  if (!open) $("cw-input").value = "";
}

export function submitMessage(ev) {
  ev.preventDefault();
  const cur = S.cur;
  const input = $("message-input");
  const text = input.value.trim();
  if (!cur || !text || input.disabled) return;
  if (!S.welcomed || !cur.joined) {
    setStatus("Not connected right now. Your message is kept here; send it again once " +
      "we are connected.");
    return;
  }
  const frame = { type: "send", room: cur.id, text };
  const cw = $("cw-row").hidden ? "" : $("cw-input").value.trim().slice(0, 40);
  if (cw) frame.cw = cw;
  request(frame, () => {
    if (input.value.trim() === text) input.value = "";
    if (cw && $("cw-input").value.trim() === cw) showCw(false);
    setStatus("");
    clearNotice("held");
    if (S.cur === cur && cur.turn === cur.participant && !cur.spoke) {
      cur.spoke = true;
      renderTurn(cur);
    }
  }, (err) => sendFailed(cur, err));
}

function sendFailed(cur, err) {
  const secs = Math.ceil(Number(err.retry_after) || 0);
  switch (err.code) {
    case "held": return showHeld(err.reason, err.kind);
    case "muted":
      cur.mutedUntil = parseTime(err.until) || cur.mutedUntil || Date.now() + 60000;
      showMuted(cur, null);
      return;
    case "rules_not_accepted":
      cur.agreedVersion = 0;
      showRules(true);
      updateComposer();
      return alertStatus("Please agree to the ground rules before writing.");
    case "slow_mode":
      return alertStatus(`Slow mode is on. You can write again in ${plural(secs || 1,
        "second")}.`);
    case "rate_limited":
      return alertStatus("You are writing quickly. Please wait a moment, then send again.");
    case "waiting":
      return alertStatus("Writing opens when a facilitator is here.");
    case "listening":
      return alertStatus("You are in listen-only mode.");
    case "not_your_turn":
      return alertStatus("One person speaks at a time here. Please wait to be called on.");
    case "too_large":
      return alertStatus("That message is too long: 2,000 characters at most.");
    case "not_joined":
    case "banned":
      return alertStatus("You are not in this room any more.");
    case "disconnected":
      return alertStatus("The connection dropped before your message was sent. It is kept " +
        "here; send it again once we are connected.");
    default:
      return alertStatus(`Your message was not sent: ${err.message || err.code}.`);
  }
}

// Kindly, and only to the writer: nothing was shown to anyone, the words are still here.
export function showHeld(reason, kind) {
  const what = { phone: "a phone number", email: "an e-mail address",
    social: "a social media handle or profile" }[kind] || "contact details";
  const text = reason === "contact_details" ?
    `Your message wasn't shared: it looks like it has ${what} in it. To keep everyone ` +
    "here safe and anonymous, contact details stay out of this room. Nobody else saw it. " +
    "You can edit your message and send it again." :
    "Your message wasn't shared: it was held back by this room's safety rules. Nobody " +
    "else saw it. You can edit it and send it again.";
  const n = setNotice("held", text, "info", true);
  n.insertBefore(el("p", { className: "muted", text: "Only you can see this note." }),
    n.children[1] || null);
  setStatus("Your message was not shared. It is still in the box for you to edit.");
  announce(text);
}

/** The mute notice, with the time left; the composer closes until it ends. */
export function showMuted(cur, reason) {
  if (!cur.mutedUntil) return;
  const text = `A facilitator has muted you: you can read, but not write, for ` +
    `${plural(minutesLeft(cur.mutedUntil), "more minute")} (until ` +
    `${fmtUntil(cur.mutedUntil)}).` + (reason ? ` Reason: ${reason}` : "");
  setNotice("muted", text, "warn");
  updateComposer();
}
