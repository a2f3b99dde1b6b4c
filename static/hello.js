// Saying hello on a new socket, and what to do with a token the server refuses: the plans are
// tried in order on `unauthorized`, so the client works out which token was bad and keeps
// the one the server gives. The member's country goes with it, only to pick crisis lines.

import * as Device from "./device.js";
import { loadRooms } from "./directory.js";
import { $, body } from "./dom.js";
import { showFacilitatorNotice, updateFacilitatorSignin } from "./facilitator.js";
import { memberCountry } from "./help.js";
import { words } from "./i18n.js";
import { send, setConn } from "./network.js";
import { joinRoom } from "./room.js";
import { S } from "./state.js";
import { getItem, removeItem, store } from "./storage.js";

export function startHello() {
  const token = Device.readToken(store("local"), store("session"));
  const fac = getItem("session", Device.FAC_KEY);
  const plans = [];
  if (token && fac) plans.push({ token, facilitator_token: fac }, { token },
    { facilitator_token: fac });
  else if (token) plans.push({ token });
  else if (fac) plans.push({ facilitator_token: fac });
  plans.push({});
  S.helloPlans = plans;
  S.helloIndex = 0;
  S.helloHad = { token: Boolean(token), fac: Boolean(fac) };
  sendHello();
}

function sendHello() {
  // `country` (when known) makes the `support` frame list that country's lines first; the
  // server uses it for nothing else and keeps it nowhere.
  const country = memberCountry();
  send({ type: "hello", ...S.helloPlans[S.helloIndex], ...(country ? { country } : {}),
    ref: "hello" });
}

/** An `error` answering the hello: on `unauthorized`, the next plan. */
export function onHelloError(f) {
  if (f.code === "unauthorized" && S.helloIndex < S.helloPlans.length - 1) {
    S.helloIndex += 1;
    sendHello();
  }
}

export function onWelcome(f) {
  const plan = S.helloPlans[S.helloIndex] || {};
  if (S.helloHad.fac && !plan.facilitator_token) {
    removeItem("session", Device.FAC_KEY);
    showFacilitatorNotice(words("signin.refused"));
  }
  // Kept where the person chose (this device, or this tab only), read afresh: another tab
  // may have changed the choice since this one loaded.
  if (typeof f.token === "string") Device.writeToken(store("local"), store("session"), f.token);
  S.welcomed = true;
  S.everConnected = true;
  S.backoff.reset();
  S.role = f.role === "facilitator" ? "facilitator" : "member";
  body.dataset.role = S.role;
  updateFacilitatorSignin();
  $("fac-panel").hidden = !(S.cur && S.role === "facilitator");
  setConn("connected");
  if (S.cur && !S.cur.removed) joinRoom();
  if (!S.cur) loadRooms();
}
