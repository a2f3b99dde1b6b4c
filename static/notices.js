// What the person is told: the assertive live region, the notices above the conversation, the
// status line under the composer, and the facilitator panel's status line. Words come as
// functions (i18n.js `words`), so what stands on screen follows a change of language.

import { $, button, el } from "./dom.js";
import { errorText, localize, words } from "./i18n.js";
import { S } from "./state.js";

let alertTimer = null; // the pending write of the live region
/** Read `say` (words, or a function returning them) out at once. */
export function announce(say) {
  // Assertive: read at once. Cleared first so the same words are read again.
  const text = typeof say === "function" ? say() : say;
  const box = $("alerts");
  box.textContent = "";
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => { box.textContent = text; }, 60);
}

/** A notice above the conversation, one per `key` (set again, it is replaced in place). */
export function setNotice(key, say, level, dismissible, extra) {
  const box = $("room-notices");
  let n = box.querySelector(`[data-key="${key}"]`);
  if (!n) {
    n = el("div", { className: "notice", dataset: { key } });
    box.append(n);
  }
  n.className = `notice ${level || "info"}`;
  const parts = [el("p", { say })];
  if (extra) parts.push(extra);
  if (dismissible) {
    parts.push(button("notice.dismiss", () => n.remove(), { className: "link-button",
      label: "notice.dismiss.label" }));
  }
  n.replaceChildren(...parts);
  return n;
}
/**
 * A notice at the top of the directory, focused so it is read first; `extra` (an element, e.g.
 * links onward) goes under the words. Gone at the next change of address.
 */
export function showHomeNotice(say, extra) {
  const box = $("home-notice");
  localize($("home-notice-text"), say);
  $("home-notice-extra").replaceChildren(...(extra ? [extra] : []));
  box.hidden = false;
  box.focus();
  $("home-notice-dismiss").onclick = () => {
    box.hidden = true;
    $("home-title").focus();
  };
  window.addEventListener("hashchange", () => { box.hidden = true; }, { once: true });
}

export function clearNotice(key) {
  const n = $("room-notices").querySelector(`[data-key="${key}"]`);
  if (n) n.remove();
}

const EMPTY = () => "";

/** The status line under the composer: `say` (a function returning words) or nothing. */
export function setStatus(say) {
  localize($("composer-status"), say || EMPTY);
}
export function alertStatus(say) {
  setStatus(say);
  announce(say);
}

export function showError(err) {
  if (err.code === "disconnected") return;
  if (S.cur) setStatus(words("error.shown", { error: () => errorText(err.code) }));
}

/** The facilitator panel's status line (read politely). */
export function facStatus(say) {
  localize($("fac-panel-status"), say || EMPTY);
}
export function facAlert(say) {
  facStatus(say);
  announce(say);
}

/** "That did not work: <the error in words>." for a refused request. */
export function failed(err, key = "error.didNotWork", params = {}) {
  return words(key, { ...params, error: () => errorText(err.code) });
}
