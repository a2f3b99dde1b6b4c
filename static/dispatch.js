// Every frame from the server to where it goes: the hello's answer, standing ending, the
// answer to a request (by `ref`), then the frames about the room on screen by type.

import { showHeld } from "./composer.js";
import { FACILITATOR_HANDLERS } from "./facilitator.js";
import { onHelloError, onWelcome } from "./hello.js";
import { MOOD_HANDLERS } from "./mood.js";
import { showError } from "./notices.js";
import { ROOM_HANDLERS } from "./room.js";
import { ROOM_CHANGE_HANDLERS } from "./room-changes.js";
import { facilitatorOnly } from "./standing.js";
import { onFacilitatorEnded } from "./standing-view.js";
import { S } from "./state.js";
import { onHands } from "./taking-part.js";

const HANDLERS = {
  ...ROOM_HANDLERS,
  ...ROOM_CHANGE_HANDLERS,
  ...FACILITATOR_HANDLERS,
  ...MOOD_HANDLERS,
  held: (f) => showHeld(f.reason, f.kind),
  hands: onHands,
};

export function handle(f) {
  const ref = typeof f.ref === "string" ? f.ref : null;
  if (f.type === "welcome") return onWelcome(f);
  if (f.type === "facilitator_ended") return onFacilitatorEnded(f);
  // Standing may have ended while a facilitator-only frame was on its way: never show it.
  if (S.role !== "facilitator" && facilitatorOnly(f.type)) return;
  if (f.type === "error" && ref === "hello") return onHelloError(f);
  if (ref && S.pending.has(ref)) {
    // The answer to a frame we sent: an ack or error, or a frame that stands for the ack
    // (`joined`, `audit_log`, `held`), which is then also handled as itself below.
    const p = S.pending.get(ref);
    S.pending.delete(ref);
    if (f.type === "error") p.onError(f);
    else if (f.type === "held") p.onError({ code: "held", reason: f.reason, kind: f.kind });
    else p.onAck(f);
    if (f.type === "ack" || f.type === "error" || f.type === "held") return;
  }
  const cur = S.cur;
  if (f.type === "error") return showError(f);
  if (f.type === "ack") return;
  if (!cur || f.room !== cur.id) return;
  const handler = HANDLERS[f.type];
  if (handler) handler(f, cur);
}
