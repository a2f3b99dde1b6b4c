// Writing: whether each composer is open (the room's and each private thread's) and why not,
// the content warning field, sending, and what a refused or held message tells the writer.

import { $, body, el } from "./dom.js";
import { fmtUntil, minutesLeft, parseTime } from "./format.js";
import { localize, localizeAttribute, t, words } from "./i18n.js";
import { request } from "./network.js";
import { alertStatus, announce, clearNotice, failed, setNotice, setStatus } from "./notices.js";
import { isMember } from "./room-model.js";
import { renderTurn, showRules } from "./room-view.js";
import { S } from "./state.js";

export function updateComposer() {
  const cur = S.cur;
  if (!cur) return;
  const input = $("message-input");
  const muted = cur.mutedUntil && cur.mutedUntil > Date.now();
  let reason = null;
  if (cur.removed) reason = words("composer.removed");
  else if (cur.agreedVersion === 0 || cur.agreedVersion < cur.rulesVersion) {
    reason = words(cur.joined ? "composer.agreeFirst" : "room.joining");
  } else if (muted) {
    const until = cur.mutedUntil;
    reason = words("composer.muted", { time: () => fmtUntil(until, Date.now()) });
  } else if (cur.listening) reason = words("composer.listening");
  else if (cur.waiting && isMember(cur)) {
    reason = words("composer.waiting");
  } else if (cur.oneAtATime && isMember(cur) && cur.turn !== cur.participant) {
    reason = words("composer.notYourTurn");
  }
  input.disabled = Boolean(reason);
  $("send").disabled = Boolean(reason);
  $("cw-toggle").disabled = Boolean(reason);
  $("cw-input").disabled = Boolean(reason);
  localizeAttribute(input, "placeholder", reason || words("composer.placeholder"));
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
  localize($("cw-toggle"), words(open ? "composer.cw.remove" : "composer.cw.add"));
  if (!open) $("cw-input").value = "";
}

export function submitMessage(ev) {
  ev.preventDefault();
  const cur = S.cur;
  const input = $("message-input");
  const text = input.value.trim();
  if (!cur || !text || input.disabled) return;
  if (!S.welcomed || !cur.joined) {
    setStatus(words("composer.offline"));
    return;
  }
  const frame = { type: "send", room: cur.id, text };
  const cw = $("cw-row").hidden ? "" : $("cw-input").value.trim().slice(0, 40);
  if (cw) frame.cw = cw;
  request(frame, () => {
    if (input.value.trim() === text) input.value = "";
    if (cw && $("cw-input").value.trim() === cw) showCw(false);
    setStatus(null);
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
      return alertStatus(words("send.rules"));
    case "slow_mode":
      return alertStatus(words("send.slow", { count: secs || 1 }));
    case "rate_limited":
      return alertStatus(words("send.quick"));
    case "waiting":
      return alertStatus(words("send.waiting"));
    case "listening":
      return alertStatus(words("send.listening"));
    case "not_your_turn":
      return alertStatus(words("send.notYourTurn"));
    case "too_large":
      return alertStatus(words("send.tooLong", { count: 2000 }));
    case "not_joined":
    case "banned":
      return alertStatus(words("send.notIn"));
    case "disconnected":
      return alertStatus(words("send.dropped"));
    default:
      return alertStatus(failed(err, "send.failed"));
  }
}

// Kindly, and only to the writer: nothing was shown to anyone, the words are still here.
export function showHeld(reason, kind) {
  const what = ["phone", "email", "social"].includes(kind) ? `held.kind.${kind}` :
    "held.kind.contact";
  const say = reason === "contact_details" ? words("held.contact", { what: words(what) }) :
    words("held.rules");
  const n = setNotice("held", say, "info", true);
  n.insertBefore(el("p", { className: "muted", t: "held.private" }), n.children[1] || null);
  setStatus(words("held.status"));
  announce(say);
}

/** The mute notice, with the time left; the composer closes until it ends. */
export function showMuted(cur, reason) {
  if (!cur.mutedUntil) return;
  const until = cur.mutedUntil;
  const now = Date.now();
  const say = () => [t("mute.notice", { count: minutesLeft(until, now),
    time: fmtUntil(until, now) }), reason ? t("removed.reason", { reason }) : ""]
    .filter(Boolean).join(" ");
  setNotice("muted", say, "warn");
  updateComposer();
}
