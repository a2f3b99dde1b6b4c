// "Leave without a trace": leave every room, close the socket, remove every key of ours from
// localStorage and sessionStorage, clear what is on screen, and never connect again in this
// page (a new connection would mint and store a new member). Coming back is a fresh page load.

import * as Device from "./device.js";
import { stopRoomsPoll } from "./directory.js";
import { $, body } from "./dom.js";
import { localize, setText, words } from "./i18n.js";
import { setConn } from "./network.js";
import { S } from "./state.js";
import { store } from "./storage.js";
import { showView } from "./views.js";

// Other tabs of this site on this device forget too: one of them reconnecting would write
// its member token straight back. BroadcastChannel leaves nothing in storage.
const channel = "BroadcastChannel" in window ? new BroadcastChannel("psc.forget") : null;

/** Forget when another tab of this site did. */
export function listenToOtherTabs() {
  if (!channel) return;
  channel.addEventListener("message", (ev) => {
    if (ev.data === "forget" && !S.forgotten) forgetDevice(true);
  });
}

/** The confirming dialog (the focus starts on Cancel); confirmed, forget. */
export function openForget() {
  const dialog = $("forget-dialog");
  const opener = document.activeElement;
  dialog.onclose = () => {
    if (dialog.returnValue === "forget") forgetDevice(false);
    else if (opener && opener.focus && document.contains(opener)) opener.focus();
  };
  dialog.returnValue = "";
  dialog.showModal();
}

function forgetDevice(fromOtherTab) {
  S.forgotten = true;
  clearTimeout(S.retryTimer);
  S.retryTimer = null;
  stopRoomsPoll();
  const ws = S.ws;
  S.ws = null; // nothing this socket still says is handled, so nothing is stored again
  if (ws && ws.readyState === WebSocket.OPEN) {
    // Explicit leaves before the close: the rooms see a plain leave now, not a dropped
    // connection (whose leave the server may announce later).
    for (const room of S.inRooms) ws.send(JSON.stringify({ type: "leave", room }));
    ws.close(1000, "left");
  } else if (ws) {
    ws.addEventListener("open", () => ws.close(1000, "left"));
  }
  S.welcomed = false;
  S.inRooms.clear();
  S.pending.clear();
  S.memory.clear();
  S.catalog.clear();
  S.cur = null;
  S.role = "member";
  const left = Device.forgetAll(store("local"), store("session"));
  for (const d of document.querySelectorAll("dialog[open]")) d.close("");
  // What was on screen goes too: the conversation, names, anything typed.
  for (const id of ["messages", "private-threads", "participants", "hands", "queue",
    "audit-list", "rooms", "room-notices", "rules-list", "support-list"]) {
    $(id).replaceChildren();
  }
  for (const id of ["my-handle", "room-title", "room-desc", "room-members",
    "composer-status", "hand-status", "turn-status", "fac-panel-status", "report-quote"]) {
    setText($(id), "");
  }
  for (const field of document.querySelectorAll("textarea, input[type=text], " +
    "input[type=search]")) field.value = "";
  const problem = $("fac-problem");
  if (problem) problem.remove();
  // The address bar (and this history entry) no longer names a room.
  history.replaceState(null, "", location.pathname);
  if (channel && !fromOtherTab) channel.postMessage("forget");
  body.dataset.role = "member";
  body.dataset.roomState = "none";
  setConn("left");
  // Said only when true: a browser that refused a removal gets the honest heading instead.
  localize($("left-title"), words(left.length === 0 ? "left.title" : "left.title.partly"));
  $("left-problem").hidden = left.length === 0;
  showView("left");
  $("left-title").focus();
}
