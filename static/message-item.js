// One message as an element (handle, badge, time, content warning, its words), for the
// room's log and for private threads alike. Its words come from the server's `html`, rebuilt
// by message-html.js; actions on it are added by messages.js.

import { $, button, el } from "./dom.js";
import { fmtTime, parseTime } from "./format.js";
import { localize, setText, t, words } from "./i18n.js";
import { linkAttributes, safePieces } from "./message-html.js";
import { setLang } from "./room-view.js";

/**
 * The words of a message: the server's `html` parsed in an inert <template> (nothing in it
 * runs or loads) and rebuilt from text, line breaks and web links only. A frame without
 * `html` shows its `text` as plain text.
 */
export function messageWords(m) {
  const frag = document.createDocumentFragment();
  if (typeof m.html !== "string") {
    frag.append(String(m.text ?? ""));
    return frag;
  }
  const parsed = document.createElement("template");
  parsed.innerHTML = m.html;
  for (const piece of safePieces(parsed.content)) {
    if (piece.br) frag.append(el("br"));
    else if (piece.href !== undefined) frag.append(el("a", linkAttributes(piece)));
    else frag.append(piece.text);
  }
  return frag;
}

/** The element for message frame `m` in room `cur`; `inPrivate` for a private thread. */
export function renderMessage(cur, m, inPrivate) {
  const li = $("tpl-message").content.firstElementChild.cloneNode(true);
  const own = m.participant === cur.participant;
  li.dataset.id = String(m.id);
  li.dataset.participant = String(m.participant || "");
  li.tabIndex = -1;
  if (own) li.classList.add("own");
  if (m.role === "facilitator") li.classList.add("from-facilitator");
  if (m.kind === "announcement") li.classList.add("announcement");
  if (m.conversation) li.classList.add("private");
  const handle = li.querySelector(".msg-handle");
  if (own) localize(handle, words("msg.you", { handle: String(m.handle || t("msg.Someone")) }));
  else if (m.handle) setText(handle, String(m.handle));
  else localize(handle, words("msg.Someone"));
  const badge = li.querySelector(".msg-badge");
  const badgeKey = m.kind === "announcement" ? "msg.badge.announcement" :
    m.role === "facilitator" ? "msg.badge.facilitator" : m.conversation ? "msg.badge.private" :
      "";
  if (badgeKey) {
    localize(badge, words(badgeKey));
    badge.hidden = false;
  }
  const ms = parseTime(m.ts);
  const time = li.querySelector(".msg-time");
  if (ms !== null) {
    time.dateTime = new Date(ms).toISOString();
    localize(time, () => fmtTime(ms));
  }
  // The words in the room's language, their direction from their own first letters (an
  // Arabic or Hebrew message reads right to left in any interface).
  const text = setLang(el("p", { className: "msg-text", dir: "auto" }, messageWords(m)),
    cur.language);
  const bodyBox = li.querySelector(".msg-body");
  if (typeof m.cw === "string" && m.cw) {
    // Collapsed until the reader chooses to open it (the writer sees their own open).
    li.classList.add("has-cw");
    text.id = `msg-${inPrivate ? "p" : ""}${String(m.id).replace(/\D/g, "")}-text`;
    text.hidden = !own;
    const toggle = button(own ? "msg.cw.hide" : "msg.cw.show", () => {
      const open = text.hidden;
      text.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      localize(toggle, words(open ? "msg.cw.hide" : "msg.cw.show"));
    }, { className: "button small secondary cw-toggle" });
    toggle.setAttribute("aria-expanded", String(own));
    toggle.setAttribute("aria-controls", text.id);
    bodyBox.append(el("div", { className: "cw" },
      el("p", { className: "cw-label", t: "msg.cw" }, el("strong", { t: "msg.cw.label",
        dataset: { slot: "label" } }), setLang(el("span", { className: "cw-text",
        dir: "auto", text: String(m.cw), dataset: { slot: "cw" } }), cur.language)),
      toggle), text);
  } else {
    bodyBox.append(text);
  }
  return li;
}
