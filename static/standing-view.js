// When the server ends this socket's facilitator standing (`facilitator_ended`: the token
// expired or was revoked), the tab is a member's at once. The words and the list of
// facilitator-only frames are standing.js; this is what the page does.

import { updateComposer } from "./composer.js";
import { FAC_KEY } from "./device.js";
import { $, body } from "./dom.js";
import { renderParticipants, renderQueue, showFacilitatorNotice } from "./facilitator.js";
import { redrawMessageActions } from "./messages.js";
import { recountFacilitators } from "./room-model.js";
import { renderMembers, renderTurn } from "./room-view.js";
import { endedText } from "./standing.js";
import { S } from "./state.js";
import { getItem, removeItem } from "./storage.js";
import { renderHands, renderMemberTools } from "./taking-part.js";

// The side panel, queue, hands, audit and every facilitator action go, others' private
// conversations are put away and ignored from here on, and the token is forgotten so no
// reconnect presents it again. The socket and its participant stay (the server follows with
// `presence` `update`, role member).
export function onFacilitatorEnded(f) {
  const hadToken = Boolean(getItem("session", FAC_KEY));
  if (S.role !== "facilitator" && !hadToken) return; // said once already
  removeItem("session", FAC_KEY);
  S.role = "member";
  body.dataset.role = "member";
  for (const d of [$("mod-dialog")]) if (d.open) d.close("");
  $("fac-panel").hidden = true;
  $("audit").hidden = true;
  $("audit-list").replaceChildren();
  const cur = S.cur;
  if (cur) {
    cur.role = "member";
    const me = cur.participants.get(cur.participant);
    if (me) me.role = "member";
    recountFacilitators(cur);
    cur.queue.clear();
    cur.muting.clear();
    for (const t of [...cur.threads.values()]) {
      if (!t.fac) continue;
      cur.foreign.add(t.id);
      t.section.remove();
      cur.threads.delete(t.id);
    }
    renderQueue(cur);
    renderParticipants(cur);
    renderHands(cur);
    renderMembers(cur);
    renderTurn(cur);
    redrawMessageActions(cur);
    renderMemberTools(cur);
    updateComposer();
  }
  const inRoom = Boolean(cur && cur.everJoined);
  showFacilitatorNotice(() => endedText(f.reason, inRoom));
  // Focus was on something that just went away: put it somewhere a keyboard user can go on.
  const active = document.activeElement;
  if (!active || active === document.body || !active.isConnected || !active.offsetParent) {
    const h = document.querySelector(`#view-${body.dataset.view} h1`);
    if (h) h.focus();
  }
}
