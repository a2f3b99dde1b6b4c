// Private conversations between a member and the room's facilitators: one thread per
// conversation above the messages, with its own log and composer. Private messages never
// enter the room's log.

import { updateThread } from "./composer.js";
import { $, button, el } from "./dom.js";
import { localizeAttribute, localize, t as tr, words } from "./i18n.js";
import { renderMessage } from "./message-item.js";
import { request } from "./network.js";
import { announce, facAlert, facStatus, failed } from "./notices.js";
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
    "aria-relevant": "additions", tLabel: "private.log" });
  const inputId = `${titleId}-input`;
  const input = el("textarea", { id: inputId, rows: "2", maxlength: "2000", dir: "auto" });
  localizeAttribute(input, "placeholder", words("private.placeholder"));
  const sendBtn = el("button", { type: "submit", className: "button small",
    t: "private.send" });
  const status = el("p", { className: "muted composer-status", "aria-live": "polite" });
  const form = el("form", { className: "pt-composer" },
    el("label", { for: inputId, className: "sr-only", t: "private.label" }), input,
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
    tools.append(button("private.end", () => request({ type: "private_close",
      room: cur.id, conversation }, () => facStatus(words("private.ended.fac")),
    (err) => facAlert(failed(err))), { className: "button small secondary" }));
  }
  $("private-threads").append(section);
  labelThread(cur, t);
  updateThread(cur, t);
  return t;
}

export function labelThread(cur, t) {
  if (t.fac) {
    const who = t.participant ? handleOf(cur, t.participant) : null;
    const args = { who: who || (() => tr("private.someone")) };
    localize(t.title, words("private.title.fac", args));
    localize(t.note, words("private.note.fac", args));
  } else {
    localize(t.title, words("private.title"));
    localize(t.note, words("private.note", { handle: cur.handle ||
      (() => tr("private.anonymous")) }));
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
    announce(tr("private.opened.said"));
  } else if (S.role === "facilitator") {
    facStatus(words("private.open", { handle: handleOf(cur, f.participant) }));
  }
  t.section.scrollIntoView({ block: "nearest" });
}

export function onPrivateClosed(f, cur) {
  const t = cur.threads.get(String(f.conversation));
  if (!t || t.closed) return;
  t.closed = true;
  updateThread(cur, t);
  t.tools.replaceChildren(el("p", { className: "muted",
    t: t.fac ? "private.ended.fac" : "private.ended" }),
  button("private.putAway", () => {
    t.section.remove();
    cur.threads.delete(t.id);
    $("message-input").focus();
  }, { className: "button small secondary", label: "private.putAway.label" }));
  if (!t.fac) announce(tr("private.ended.said"));
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
    localize(t.status, () => "");
  }, (err) => {
    let say;
    if (err.code === "rules_not_accepted") {
      showRules(true);
      say = words("private.rules");
    } else if (err.code === "not_found") {
      onPrivateClosed({ conversation: t.id }, cur);
      say = words("private.ended.fac");
    } else {
      say = err.code === "disconnected" ? words("private.offline") :
        failed(err, "private.failed");
    }
    localize(t.status, say);
    announce(say);
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
    facStatus(words("private.open", { handle: h }));
    t.input.focus();
  }, (err) => facAlert(failed(err, "private.openFailed")));
}
