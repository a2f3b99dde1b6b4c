// Facilitator standing as the client sees it: which frames only a facilitator receives, and
// what to tell the person when the server ends their standing (`facilitator_ended`, see
// docs/protocol.md "Losing facilitator standing"). Pure: `node --test tests/static/` imports it
// as the page does.

import { t } from "./i18n.js";

// Frames the server sends to facilitators only. After standing ends the server sends none;
// one already on its way when the client dropped facilitator mode is ignored, not shown.
export const FACILITATOR_ONLY = Object.freeze(new Set([
  "queue", "queue_item", "resolved", "alert", "reported", "flagged", "audit_log",
  "mood_summary",
]));

// Only reasons the contract names are put into words; anything else reads as plain "ended".
const REASONS = Object.freeze(["expired", "revoked"]);

/** True for a frame a member must never act on. */
export function facilitatorOnly(type) {
  return FACILITATOR_ONLY.has(type);
}

/** What the person is told, in plain words, when standing ends; `inRoom` picks the ending. */
export function endedText(reason, inRoom) {
  const known = typeof reason === "string" && REASONS.includes(reason);
  return t(known ? "standing.ended.why" : "standing.ended", {
    why: known ? t(`standing.reason.${reason}`) : "",
    next: t(inRoom ? "standing.stay" : "standing.carryOn"),
  });
}
