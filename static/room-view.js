// The room's header as drawn from its model: who is here and the room's flags, the ground
// rules, whose turn it is, and the note while the room waits for a facilitator.

import { $, el } from "./dom.js";
import { dateTimeFmt, parseTime } from "./format.js";
import { announce, setNotice } from "./notices.js";
import { facilitatorHere, handleOf, isMember } from "./room-model.js";
import { S } from "./state.js";

export function renderMembers(cur) {
  $("room-members").textContent = `${cur.members} here`;
  const flags = [];
  if (facilitatorHere(cur)) flags.push(el("span", { className: "badge fac",
    text: "Facilitator here" }));
  if (cur.locked) flags.push(el("span", { className: "badge", text: "Locked" }));
  if (cur.slow > 0) flags.push(el("span", { className: "badge",
    text: `Slow mode: ${cur.slow} s` }));
  if (cur.paused) flags.push(el("span", { className: "badge warn", text: "Paused" }));
  if (cur.oneAtATime) flags.push(el("span", { className: "badge", text: "One at a time" }));
  $("room-flags").replaceChildren(...flags);
}

// Before agreeing the rules stand open with the agree button; afterwards they can be read
// again from the "Ground rules" toggle.
export function showRules(open) {
  const cur = S.cur;
  const agreed = Boolean(cur && cur.agreedVersion > 0 && cur.agreedVersion >= cur.rulesVersion);
  $("rules").hidden = !open;
  $("agree").hidden = agreed;
  $("rules-show").hidden = !agreed;
  $("rules-show").setAttribute("aria-expanded", String(open && agreed));
}

export function renderRules(rules) {
  $("rules-list").replaceChildren(...rules.map((r) => el("li", { text: String(r) })));
}

/** The rules changed after this member agreed: show them, and ask to agree again. */
export function askToAgreeAgain() {
  showRules(true);
  setNotice("rules", "The ground rules have changed. Please read them and agree again " +
    "to keep writing.", "warn");
  announce("The ground rules have changed.");
}

export function renderTurn(cur) {
  const box = $("turn-status");
  let text = "";
  if (cur.oneAtATime) {
    if (cur.turn && cur.turn === cur.participant) {
      text = "One person speaks at a time, and it's your turn now. Take your time.";
    } else if (cur.turn) {
      text = `One person speaks at a time. Now speaking: ${handleOf(cur, cur.turn)}. ` +
        (isMember(cur) ? "Raise your hand to speak next." : "");
    } else {
      text = "One person speaks at a time. " + (isMember(cur) ?
        "Raise your hand and wait to be called on." : "Nobody has been called on yet.");
    }
  } else if (cur.turn && cur.turn === cur.participant && isMember(cur) && !cur.spoke) {
    text = "A facilitator has invited you to share.";
  }
  text = text.trim();
  box.hidden = !text;
  if (box.textContent !== text) box.textContent = text;
  const fac = $("turn-fac");
  const facText = cur.turn ? `Called on: ${handleOf(cur, cur.turn)}` : "";
  fac.hidden = !facText;
  fac.textContent = facText;
}

// A room that opens only with a facilitator: say so, and when the next session is.
export function renderWaiting(cur) {
  const info = S.catalog.get(cur.id);
  let when = "";
  if (info && info.in_session) {
    when = " A session is scheduled now, so a facilitator should be here soon.";
  } else if (info && info.next_session) {
    const t = parseTime(info.next_session);
    if (t !== null) when = ` The next session is ${dateTimeFmt.format(new Date(t))} (your time).`;
  }
  setNotice("waiting", "This room opens when a facilitator is here, and none is here right " +
    `now. You can read along; writing opens when a facilitator joins.${when}`, "info");
}

/** Fetch the directory entry again for the next session's time, then redraw the note. */
export async function refreshRoomInfo(cur) {
  try {
    const res = await fetch("/api/rooms", { headers: { accept: "application/json" } });
    if (!res.ok) return;
    const rooms = await res.json();
    if (!Array.isArray(rooms)) return;
    for (const r of rooms) if (r && typeof r.id === "string") S.catalog.set(r.id, r);
  } catch {
    return; // the notice stands without a time
  }
  if (S.cur === cur && cur.waiting) renderWaiting(cur);
}
