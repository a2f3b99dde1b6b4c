// Private conversations between a member and the room's facilitators: one thread per
// conversation above the messages, with its own log and composer. Private messages never
// enter the room's log.

import { updateThread } from "./composer.js";
import { $, button, el } from "./dom.js";
import { renderMessage } from "./message-item.js";
import { request } from "./network.js";
import { announce, facAlert, facStatus } from "./notices.js";
import { handleOf, isMember } from "./room-model.js";
import { showRules } from "./room-view.js";
import { S } from "./state.js";

/** The thread of `conversation`, drawn now if it is new. */
export function ensureThread(cur, conversation, participant) {
  let t = cur.threads.get(conversation);
  if (t) {
    if (!t.participant && participant) t.participant = participant;
    return t;
  }
  const n = cur.threads.size + 1;
  const titleId = `pt-title-${conversation.replace(/[^\w-]/g, "")}-${n}`;
  const fac = S.role === "facilitator" && !isMember(cur);
  const title = el("h2", { id: titleId, className: "pt-title" });
  const note = el("p", { className: "muted" });
  const support = el("div", { className: "pt-support" });
  support.hidden = true;
  const log = el("ol", { className: "messages pt-log", role: "log", "aria-live": "polite",
    "aria-relevant": "additions", "aria-label": "Messages in this private conversation" });
  const inputId = `${titleId}-input`;
  const input = el("textarea", { id: inputId, rows: "2", maxlength: "2000",
    placeholder: "Write privately. Enter sends, Shift+Enter adds a line." });
  const sendBtn = el("button", { type: "submit", className: "button small",
    text: "Send privately" });
  const status = el("p", { className: "muted composer-status", "aria-live": "polite" });
  const form = el("form", { className: "pt-composer" },
    el("label", { for: inputId, className: "sr-only", text: "Private message" }), input,
    el("div", { className: "composer-row" }, status, sendBtn));
  const tools = el("div", { className: "control-row" });
  const section = el("section", { className: "private-thread", tabindex: "-1",
    "aria-labelledby": titleId, dataset: { conversation } },
  title, note, support, log, form, tools);
  t = { id: conversation, participant, section, title, note, support, log, form, input,
    sendBtn, status, tools, closed: false, ids: new Set(), fac };
  cur.threads.set(conversation, t);
  const submit = (ev) => {
    ev.preventDefault();
    sendPrivate(cur, t);
  };
  form.addEventListener("submit", submit);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) submit(ev);
  });
  if (fac) {
    tools.append(button("End private conversation", () => request({ type: "private_close",
      room: cur.id, conversation }, () => facStatus("The private conversation has ended."),
    (err) => facAlert(`That did not work: ${err.message || err.code}.`)),
    { className: "button small secondary" }));
  }
  $("private-threads").append(section);
  labelThread(cur, t);
  updateThread(cur, t);
  return t;
}

export function labelThread(cur, t) {
  if (t.fac) {
    const who = t.participant ? handleOf(cur, t.participant) : "a participant";
    t.title.textContent = `Private conversation with ${who}`;
    t.note.textContent = `Only ${who} and this room's facilitators can see this.`;
  } else {
    t.title.textContent = "Private conversation with a facilitator";
    t.note.textContent = "Only you and this room's facilitators can see this. Nobody " +
      `else in the room does. You are still ${cur.handle || "anonymous"} here.`;
  }
}

export function onPrivateOpened(f, cur) {
  if (typeof f.conversation !== "string" || cur.foreign.has(f.conversation)) return;
  const mine = f.participant === cur.participant && isMember(cur);
  const known = cur.threads.has(f.conversation);
  const t = ensureThread(cur, f.conversation, typeof f.participant === "string" ?
    f.participant : null);
  if (mine) cur.supportFor = f.conversation;
  if (known) return;
  if (mine) {
    announce("A facilitator has opened a private conversation with you. Only you and the " +
      "facilitators can see it. It is shown above the messages.");
  } else if (S.role === "facilitator") {
    facStatus(`A private conversation with ${handleOf(cur, f.participant)} is open.`);
  }
  t.section.scrollIntoView({ block: "nearest" });
}

export function onPrivateClosed(f, cur) {
  const t = cur.threads.get(String(f.conversation));
  if (!t || t.closed) return;
  t.closed = true;
  updateThread(cur, t);
  const text = t.fac ? "This private conversation has ended." :
    "The facilitator has ended this private conversation. You can still reach the " +
    "crisis lines at any time from \"Need help now?\".";
  t.tools.replaceChildren(el("p", { className: "muted", text }),
    button("Put away", () => {
      t.section.remove();
      cur.threads.delete(t.id);
      $("message-input").focus();
    }, { className: "button small secondary",
      ariaLabel: "Put away the ended private conversation" }));
  if (!t.fac) announce("The facilitator has ended the private conversation.");
}

export function addPrivateMessage(cur, m) {
  const participant = S.role === "facilitator" && m.role !== "facilitator" ?
    String(m.participant) : null;
  const t = ensureThread(cur, m.conversation, participant);
  const id = Number(m.id);
  if (t.ids.has(id)) return;
  t.ids.add(id);
  const li = renderMessage(cur, m, true);
  li.classList.add("private");
  t.log.append(li);
  t.log.scrollTop = t.log.scrollHeight;
}

function sendPrivate(cur, t) {
  const text = t.input.value.trim();
  if (!text || t.input.disabled) return;
  request({ type: "send", room: cur.id, text, conversation: t.id }, () => {
    if (t.input.value.trim() === text) t.input.value = "";
    t.status.textContent = "";
  }, (err) => {
    if (err.code === "rules_not_accepted") {
      showRules(true);
      t.status.textContent = "Please agree to the ground rules first (above), then send " +
        "again. Your words are kept here.";
    } else if (err.code === "not_found") {
      onPrivateClosed({ conversation: t.id }, cur);
      t.status.textContent = "This private conversation has ended.";
    } else {
      t.status.textContent = err.code === "disconnected" ? "Not connected: your message " +
        "is kept here. Send it again once we are connected." :
        `Not sent: ${err.message || err.code}.`;
    }
    announce(t.status.textContent);
  });
}

/** A facilitator's "Talk privately": go to the open thread with `pid`, or open one. */
export function talkPrivately(cur, pid, h) {
  for (const t of cur.threads.values()) {
    if (t.participant === pid && !t.closed) {
      t.input.focus();
      return;
    }
  }
  request({ type: "private_open", room: cur.id, participant: pid }, (ack) => {
    if (S.cur !== cur || typeof ack.conversation !== "string") return;
    const t = ensureThread(cur, ack.conversation, pid);
    facStatus(`A private conversation with ${h} is open.`);
    t.input.focus();
  }, (err) => facAlert(`The private conversation did not open: ${err.message || err.code}.`));
}
