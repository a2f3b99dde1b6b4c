// The room's conversation: the log in id order, history put in quietly, deleted messages, and
// each message's actions (Report for a member; Flag and Delete for a facilitator).

import { $, button, el } from "./dom.js";
import { t } from "./i18n.js";
import { openMod } from "./facilitator.js";
import { renderMessage } from "./message-item.js";
import * as recovery from "./recovery.js";
import { openReport } from "./report.js";
import { addMessage, clearMessages, DELETED_KEY, deleteMessage } from "./room-model.js";
import { S } from "./state.js";

export function resetLog(cur) {
  clearMessages(cur);
  cur.items.clear();
  $("messages").replaceChildren();
  $("empty-log").hidden = false;
}

/** Put in message frames: `live` ones as news, history (not live) with the live region off. */
export function addMessages(cur, frames, live) {
  const log = $("messages");
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  if (!live) {
    // History is not news: keep the live region quiet while it is put in.
    log.setAttribute("aria-live", "off");
    log.setAttribute("aria-busy", "true");
  }
  const frag = document.createDocumentFragment();
  for (const m of frames) {
    const placed = addMessage(cur, m);
    if (!placed) continue;
    const li = renderMessage(cur, m, false);
    li.querySelector(".msg-actions").replaceChildren(...messageActions(cur, m));
    cur.items.set(placed.id, li);
    if (placed.before !== null && live) log.insertBefore(li, cur.items.get(placed.before));
    else frag.append(li);
    if (live) recovery.seen(S.memory, cur.id, placed.id);
  }
  log.append(frag);
  $("empty-log").hidden = cur.messages.size > 0;
  if (!live) {
    requestAnimationFrame(() => {
      log.removeAttribute("aria-busy");
      log.setAttribute("aria-live", "polite");
    });
  }
  if (!live || nearBottom) log.scrollTop = log.scrollHeight;
}

// Report for a member, Flag and Delete for a facilitator. Private messages have none: the
// facilitators are the other side.
function messageActions(cur, m) {
  const actions = [];
  const own = m.participant === cur.participant;
  const args = { who: String(m.handle || t("msg.someone")) };
  const who = args.who;
  if (S.role === "facilitator") {
    actions.push(
      button("msg.flag", () => openMod({ action: "flag", messageId: m.id, handle: who,
        text: m.text }), { className: "link-button", label: "msg.flag.label", args }),
      button("msg.delete", () => openMod({ action: "delete", messageId: m.id, handle: who,
        text: m.text }), { className: "link-button danger-text", label: "msg.delete.label",
        args }),
    );
  } else if (!own) {
    actions.push(button("msg.report", () => openReport(cur, m), { className: "link-button",
      label: "msg.report.label", args }));
  }
  return actions;
}

/** The role changed under messages already drawn: give each the actions of the new role. */
export function redrawMessageActions(cur) {
  for (const [id, li] of cur.items) {
    const m = cur.messages.get(id);
    if (m && !cur.deleted.has(id)) {
      li.querySelector(".msg-actions").replaceChildren(...messageActions(cur, m));
    }
  }
}

export function markDeleted(cur, messageId) {
  if (!deleteMessage(cur, messageId)) return;
  const li = cur.items.get(Number(messageId));
  li.classList.add("deleted");
  li.querySelector(".msg-body").replaceChildren(el("p", { className: "msg-text msg-deleted",
    t: DELETED_KEY }));
  li.querySelector(".msg-actions").replaceChildren();
}
