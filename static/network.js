// The one WebSocket to /ws: connecting and reconnecting (delays from backoff.js), sending,
// and requests answered by a frame carrying their `ref`. What to do on open and with each
// frame is given by main.js (`configure`), so this module knows no view.

import { $, body } from "./dom.js";
import { localize, words } from "./i18n.js";
import { showError } from "./notices.js";
import { S } from "./state.js";

const hooks = {
  opened: () => {}, // the socket is open: say hello
  received: () => {}, // a parsed frame (an object)
  changed: () => {}, // the connection state changed: the composers follow it
};

/** Set the hooks above (main.js, once). */
export function configure(given) {
  Object.assign(hooks, given);
}

export function setConn(state) {
  S.conn = state;
  body.dataset.state = state;
  localize($("conn-text"), words(`conn.${state}`));
  $("conn-retry").hidden = state !== "reconnecting" && state !== "offline";
  hooks.changed();
}

function wsUrl() {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
}

export function connect() {
  clearTimeout(S.retryTimer);
  S.retryTimer = null;
  if (S.forgotten) return; // a new connection would make and store a new member
  if (!navigator.onLine) {
    setConn("offline");
    return;
  }
  setConn(S.backoff.fresh && !S.everConnected ? "connecting" : "reconnecting");
  let ws;
  try {
    ws = new WebSocket(wsUrl());
  } catch {
    scheduleReconnect(1006);
    return;
  }
  S.ws = ws;
  ws.addEventListener("open", () => {
    if (S.ws === ws) hooks.opened();
  });
  ws.addEventListener("message", (ev) => {
    if (S.ws !== ws) return;
    let frame;
    try {
      frame = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (frame && typeof frame === "object") hooks.received(frame);
  });
  ws.addEventListener("close", (ev) => {
    if (S.ws !== ws) return;
    S.ws = null;
    disconnected(ev.code);
  });
}

/** Try again at once, from the shortest delay ("Retry now", back online, tab shown again). */
export function retryNow() {
  S.backoff.reset();
  connect();
}

/** Close and connect again at once (a facilitator signed in or out: the role changes). */
export function reconnectNow() {
  const old = S.ws;
  S.ws = null;
  if (old) old.close(1000, "reconnecting");
  disconnected(1000, true);
  S.memory.clear(); // the role may change: draw the room again from its history
  retryNow();
}

function disconnected(code, quiet) {
  S.welcomed = false;
  S.inRooms.clear();
  for (const p of S.pending.values()) p.onError({ code: "disconnected",
    message: "the connection was lost" });
  S.pending.clear();
  const cur = S.cur;
  if (cur && !cur.removed) {
    cur.joined = false;
    body.dataset.roomState = "joining";
  }
  if (!quiet) scheduleReconnect(code);
}

function scheduleReconnect(code) {
  if (S.forgotten) return;
  if (!navigator.onLine) {
    setConn("offline");
    return;
  }
  setConn("reconnecting");
  S.retryTimer = setTimeout(connect, S.backoff.next(code));
}

export function send(frame) {
  if (!S.ws || S.ws.readyState !== WebSocket.OPEN) return false;
  S.ws.send(JSON.stringify(frame));
  return true;
}

/** Send with a `ref`; the `ack`, `error` (or `held`, `joined`) that carries it settles it. */
export function request(frame, onAck, onError) {
  const ref = `r${++S.refSeq}`;
  const fail = onError || ((err) => showError(err));
  if (!S.welcomed || !send({ ...frame, ref })) {
    fail({ code: "disconnected", message: "not connected" });
    return;
  }
  S.pending.set(ref, { onAck: onAck || (() => {}), onError: fail });
}
