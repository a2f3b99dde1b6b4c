// The room's header as drawn from its model: who is here and the room's flags, the ground
// rules, whose turn it is, the note while the room waits for a facilitator, and the room's
// language on what is in it.

import { $, el } from "./dom.js";
import { fmtSession, parseTime } from "./format.js";
import { localize, primary, t, words } from "./i18n.js";
import { announce, setNotice } from "./notices.js";
import { facilitatorHere, handleOf, isMember } from "./room-model.js";
import { S } from "./state.js";

export function renderMembers(cur) {
  localize($("room-members"), words("rooms.here", { count: cur.members }));
  const flags = [];
  if (facilitatorHere(cur)) flags.push(el("span", { className: "badge fac",
    t: "rooms.facilitatorHere" }));
  if (cur.locked) flags.push(el("span", { className: "badge", t: "rooms.locked" }));
  if (cur.slow > 0) flags.push(el("span", { className: "badge", t: "room.flag.slow",
    args: { seconds: cur.slow } }));
  if (cur.paused) flags.push(el("span", { className: "badge warn", t: "room.flag.paused" }));
  if (cur.oneAtATime) flags.push(el("span", { className: "badge", t: "rooms.oneAtATime" }));
  $("room-flags").replaceChildren(...flags);
}

// What the room holds is in the room's language (BCP 47 `language` from /api/rooms): its
// name, description, rules and each message's words carry `lang`, so a screen reader reads
// them in that language whatever the interface speaks (the client's own words around them
// keep the document's). Not known yet: no `lang`, the document's applies.
export function roomLanguage(cur) {
  const info = S.catalog.get(cur.id);
  cur.language = info && typeof info.language === "string" && primary(info.language) ?
    info.language : null;
  for (const id of ["room-title", "room-desc", "rules-list"]) setLang($(id), cur.language);
  for (const node of document.querySelectorAll("#view-room .msg-text, #view-room .cw-text")) {
    setLang(node, cur.language);
  }
}

/** `lang` on `node` when the language is known; otherwise none (the document's applies). */
export function setLang(node, lang) {
  if (lang) node.lang = lang;
  else node.removeAttribute("lang");
  return node;
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
  setNotice("rules", words("rules.changed"), "warn");
  announce(t("rules.changed.said"));
}

export function renderTurn(cur) {
  const box = $("turn-status");
  let text = null;
  if (cur.oneAtATime) {
    if (cur.turn && cur.turn === cur.participant) {
      text = words("turn.oneAtATime.yours");
    } else if (cur.turn) {
      text = words(isMember(cur) ? "turn.oneAtATime.speaking.member" :
        "turn.oneAtATime.speaking", { handle: handleOf(cur, cur.turn) });
    } else {
      text = words(isMember(cur) ? "turn.oneAtATime.raise" : "turn.oneAtATime.nobody");
    }
  } else if (cur.turn && cur.turn === cur.participant && isMember(cur) && !cur.spoke) {
    text = words("turn.invited");
  }
  box.hidden = !text;
  localize(box, text || (() => ""));
  const fac = $("turn-fac");
  fac.hidden = !cur.turn;
  localize(fac, cur.turn ? words("turn.calledOn", { handle: handleOf(cur, cur.turn) }) :
    () => "");
}

// A room that opens only with a facilitator: say so, and when the next session is.
export function renderWaiting(cur) {
  const info = S.catalog.get(cur.id);
  let when = "";
  let at = null;
  if (info && info.in_session) {
    when = "waiting.now";
  } else if (info && info.next_session) {
    at = parseTime(info.next_session);
    if (at !== null) when = "waiting.next";
  }
  setNotice("waiting", () => [t("waiting.text"), when ? t(when,
    { when: fmtSession(at, Date.now()) }) : ""].filter(Boolean).join(" "), "info");
}

/** Fetch the directory entry again (the room's language, the next session's time). */
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
  if (S.cur !== cur) return;
  roomLanguage(cur);
  if (cur.waiting) renderWaiting(cur);
}
