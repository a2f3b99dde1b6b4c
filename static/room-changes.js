// What a coordinator's change to the room on screen does here: `room_updated` redraws its
// name, description, rules and flags (new rules are shown and agreed again before writing);
// `room_closed` takes the person back to the directory and says, politely, why.

import { updateComposer } from "./composer.js";
import { $ } from "./dom.js";
import { setText, words } from "./i18n.js";
import { showHomeNotice } from "./notices.js";
import * as recovery from "./recovery.js";
import { applyRoomUpdated } from "./room-model.js";
import { askToAgreeAgain, renderMembers, renderRules, renderTurn } from "./room-view.js";
import { S } from "./state.js";
import { renderMemberTools } from "./taking-part.js";

function onRoomUpdated(f, cur) {
  const known = S.catalog.get(cur.id);
  for (const field of ["name", "description", "category"]) {
    if (typeof f[field] !== "string") continue;
    if (known) known[field] = f[field];
    if (field === "name") setText($("room-title"), f.name);
    if (field === "description") setText($("room-desc"), f.description);
  }
  if (Array.isArray(f.rules)) renderRules(f.rules);
  const { rulesChanged } = applyRoomUpdated(cur, f);
  if (rulesChanged) askToAgreeAgain();
  renderMembers(cur);
  renderTurn(cur);
  renderMemberTools(cur);
  updateComposer();
}

function onRoomClosed(f, cur) {
  // The server took this socket out of the room already: nothing to leave, nothing to recover.
  cur.joined = false;
  recovery.ended(S.memory, cur.id);
  S.catalog.delete(cur.id);
  // main.js routes on the change of address (the directory, its heading focused); the notice
  // comes after that, and takes the focus so it is read first.
  window.addEventListener("hashchange", () => showHomeNotice(words("room.closed")), { once: true });
  location.hash = "#/";
}

/** The frames of a coordinator's change to the room on screen, by type. */
export const ROOM_CHANGE_HANDLERS = {
  room_updated: onRoomUpdated,
  room_closed: onRoomClosed,
};
