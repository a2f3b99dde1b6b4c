// Which screen shows: home (the directory), a room, the coordinator console, or "left" after
// leaving without a trace.

import { $, body } from "./dom.js";
import { S } from "./state.js";

export function showView(name) {
  body.dataset.view = name;
  $("view-home").hidden = name !== "home";
  $("view-room").hidden = name !== "room";
  $("view-left").hidden = name !== "left";
  $("view-console").hidden = name !== "console";
  $("fac-panel").hidden = !(name === "room" && S.role === "facilitator");
  if (S.navigated) {
    const h = document.querySelector(`#view-${name} h1`);
    if (h) h.focus({ preventScroll: false });
  }
}
