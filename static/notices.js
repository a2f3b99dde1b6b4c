// What the person is told: the assertive live region, the notices above the conversation, the
// status line under the composer, and the facilitator panel's status line.

import { $, button, el } from "./dom.js";
import { S } from "./state.js";

let alertTimer = null; // the pending write of the live region
export function announce(text) {
  // Assertive: read at once. Cleared first so the same words are read again.
  const box = $("alerts");
  box.textContent = "";
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => { box.textContent = text; }, 60);
}

/** A notice above the conversation, one per `key` (set again, it is replaced in place). */
export function setNotice(key, text, level, dismissible, extra) {
  const box = $("room-notices");
  let n = box.querySelector(`[data-key="${key}"]`);
  if (!n) {
    n = el("div", { className: "notice", dataset: { key } });
    box.append(n);
  }
  n.className = `notice ${level || "info"}`;
  const parts = [el("p", { text })];
  if (extra) parts.push(extra);
  if (dismissible) {
    parts.push(button("Dismiss", () => n.remove(), { className: "link-button",
      ariaLabel: "Dismiss this notice" }));
  }
  n.replaceChildren(...parts);
  return n;
}
export function clearNotice(key) {
  const n = $("room-notices").querySelector(`[data-key="${key}"]`);
  if (n) n.remove();
}

export function setStatus(text) {
  $("composer-status").textContent = text;
}
export function alertStatus(text) {
  setStatus(text);
  announce(text);
}

export function showError(err) {
  if (err.code === "disconnected") return;
  if (S.cur) setStatus(err.message ? `Something went wrong: ${err.message}.` : "");
}

export function facStatus(text) {
  $("fac-panel-status").textContent = text;
}
export function facAlert(text) {
  facStatus(text);
  announce(text);
}
