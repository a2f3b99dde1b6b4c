// The web client of peer-support-chat: plain ES modules, no build step, speaking only the
// wire contract (docs/protocol.md); docs/client.md says which module holds what. This one
// starts the page: it routes by the address, wires the controls, and connects.

import { hideConsole, showConsole } from "./console.js";
import { readFragment } from "./console-model.js";
import { showCw, showMuted, submitMessage, updateComposer } from "./composer.js";
import { handle } from "./dispatch.js";
import * as Device from "./device.js";
import { loadRooms, startRoomsPoll, wireDirectory } from "./directory.js";
import { $ } from "./dom.js";
import { openMod, roomFrame, updateFacilitatorSignin } from "./facilitator.js";
import { listenToOtherTabs, openForget } from "./forget.js";
import { startHello } from "./hello.js";
import { openHelp, wireHelp } from "./help.js";
import { localize, words } from "./i18n.js";
import { startLanguage } from "./language.js";
import { wireMood } from "./mood.js";
import { configure, connect, reconnectNow, request, retryNow, setConn } from "./network.js";
import { announce, clearNotice, facAlert, facStatus, failed, setNotice } from "./notices.js";
import { agree, enterRoom, leaveRoom } from "./room.js";
import { showRules } from "./room-view.js";
import { S } from "./state.js";
import { removeItem, setItem, store } from "./storage.js";
import { setListening, toggleHand } from "./taking-part.js";
import { showView } from "./views.js";

function route() {
  // After "leave without a trace" any way onward is a new page: a new, unknown member.
  if (S.forgotten) {
    location.reload();
    return;
  }
  const fac = readFragment(location.hash);
  if (fac) takeSignInLink(fac);
  const m = location.hash.match(/^#\/room\/([a-z0-9-]{1,64})$/);
  if (location.hash === "#/console") {
    leaveRoom();
    showView("console");
    showConsole();
  } else if (m) {
    hideConsole();
    enterRoom(m[1]);
  } else {
    hideConsole();
    leaveRoom();
    showView("home");
    if (S.welcomed) loadRooms();
    startRoomsPoll();
  }
  S.navigated = true;
}

// A facilitator's sign-in link (`#facilitator=<token>`, made in the coordinator console): the
// token goes where a pasted one goes, and out of the address bar at once, so it is neither left
// on screen nor bookmarked nor in the history. A page already connected signs in again.
function takeSignInLink(token) {
  setItem("session", Device.FAC_KEY, token);
  history.replaceState(null, "", `${location.pathname}${location.search}`);
  updateFacilitatorSignin();
  $("fac-details").open = true;
  announce(words("signin.signedIn"));
  if (S.ws) reconnectNow();
}

// The "remember me only in this tab" box shows the choice in force; `said` is read out.
function showScope(said) {
  $("tab-only").checked = Device.scopeOf(store("local")) === "tab";
  if (said) localize($("tab-only-status"), said);
}

function wireMember() {
  for (const h of document.querySelectorAll("h1")) h.tabIndex = -1;
  $("help-open").addEventListener("click", openHelp);
  for (const b of document.querySelectorAll(".help-link")) b.addEventListener("click", openHelp);
  $("conn-retry").addEventListener("click", retryNow);
  $("agree").addEventListener("click", () => { if (S.cur) agree(S.cur, false); });
  $("rules-show").addEventListener("click", () => showRules($("rules").hidden));
  $("composer").addEventListener("submit", submitMessage);
  $("listen-toggle").addEventListener("click", () => {
    if (S.cur && S.cur.joined) setListening(S.cur, !S.cur.listening, false);
  });
  $("hand-toggle").addEventListener("click", () => {
    if (S.cur && S.cur.joined) toggleHand(S.cur);
  });
  $("cw-toggle").addEventListener("click", () => {
    const open = $("cw-row").hidden;
    showCw(open);
    (open ? $("cw-input") : $("message-input")).focus();
  });
  $("message-input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) submitMessage(ev);
  });
  $("support-close").addEventListener("click", () => {
    $("support").hidden = true;
    $("message-input").focus();
  });

  let searchTimer = null;
  $("room-search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadRooms, 200);
  });
  $("room-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    loadRooms();
  });
  $("categories").addEventListener("change", loadRooms);
}

function wireDevice() {
  for (const b of document.querySelectorAll(".forget-open")) {
    b.addEventListener("click", openForget);
  }
  listenToOtherTabs();
  $("tab-only").addEventListener("change", () => {
    const want = $("tab-only").checked ? "tab" : "device";
    const got = Device.setScope(store("local"), store("session"), want);
    showScope(words(got !== want ? "device.scope.refused" : got === "tab" ? "device.scope.tab" :
      "device.scope.device"));
  });
  // Another tab changed the choice: show it here too.
  window.addEventListener("storage", (ev) => {
    if (ev.key === Device.SCOPE_KEY || ev.key === null) showScope();
  });
}

function wireFacilitator() {
  $("fac-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const token = $("fac-token").value.trim();
    if (!token) return;
    setItem("session", Device.FAC_KEY, token);
    $("fac-token").value = "";
    const p = $("fac-problem");
    if (p) p.remove();
    updateFacilitatorSignin();
    reconnectNow();
  });
  $("fac-signout").addEventListener("click", () => {
    removeItem("session", Device.FAC_KEY);
    updateFacilitatorSignin();
    reconnectNow();
  });
  $("slow-apply").addEventListener("click", () => {
    const seconds = Number($("slow-select").value);
    roomFrame("slow", { seconds }, seconds ? words("panel.slow.done", { count: seconds }) :
      words("panel.slow.offDone"));
  });
  $("lock-toggle").addEventListener("click", () => {
    const locked = S.cur && S.cur.locked;
    roomFrame(locked ? "unlock" : "lock", {}, words(locked ? "panel.unlocked" :
      "panel.locked"));
  });
  $("pause-toggle").addEventListener("click", () => {
    const paused = S.cur && S.cur.paused;
    roomFrame(paused ? "resume" : "pause", {}, words(paused ? "panel.resumed" :
      "panel.paused"), $("pause-toggle"));
  });
  $("announce-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("announce-text").value.trim();
    if (!text || !S.cur) return;
    request({ type: "announce", room: S.cur.id, text }, () => {
      $("announce-text").value = "";
      facStatus(words("panel.announce.sent"));
    }, (err) => facAlert(failed(err, "panel.announce.failed")));
  });
  $("audit-load").addEventListener("click", () => roomFrame("audit", {},
    words("panel.audit.loaded")));
  $("end-session").addEventListener("click", () => openMod({ action: "end_session" }));
}

function wirePage() {
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => {
    if (!S.ws) retryNow();
  });
  window.addEventListener("offline", () => {
    if (!S.welcomed) setConn("offline");
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !S.ws && S.retryTimer) retryNow();
  });
  // Time left on a mute, and its end.
  setInterval(() => {
    const cur = S.cur;
    if (cur && cur.mutedUntil) {
      if (cur.mutedUntil <= Date.now()) {
        cur.mutedUntil = null;
        clearNotice("muted");
        setNotice("unmuted", words("mute.ended"), "info", true);
      } else {
        showMuted(cur, cur.muteReason);
      }
      updateComposer();
    }
  }, 15000);
}

startLanguage();
configure({ opened: startHello, received: handle, changed: updateComposer });
wireMember();
wireDirectory();
wireHelp();
wireDevice();
wireFacilitator();
wireMood();
wirePage();
showScope();
updateFacilitatorSignin();
route();
connect();
