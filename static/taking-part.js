// Taking part: just listening or talking, raised hands and the member's place in line, and a
// facilitator's list of raised hands with Call on and Lower.

import { updateComposer } from "./composer.js";
import { $, button, el } from "./dom.js";
import { renderParticipants, roomFrame } from "./facilitator.js";
import { locale, localize, t, words } from "./i18n.js";
import { request } from "./network.js";
import { alertStatus, announce, facStatus, failed, setStatus } from "./notices.js";
import { applyHands, handleOf, isMember } from "./room-model.js";
import { S } from "./state.js";

export function renderMemberTools(cur) {
  const show = cur.everJoined && !cur.removed && isMember(cur);
  $("member-tools").hidden = !show;
  if (!show) return;
  const toggle = $("listen-toggle");
  localize(toggle, words(cur.listening ? "tools.talk" : "tools.listen"));
  localize($("listen-note"), words(cur.listening ? "tools.listening" : "tools.listenNote"));
  const agreed = cur.agreedVersion > 0 && cur.agreedVersion >= cur.rulesVersion;
  const hand = $("hand-toggle");
  const place = cur.hands.indexOf(cur.participant);
  hand.hidden = cur.listening || !agreed;
  localize(hand, words(place >= 0 ? "tools.lower" : "tools.raise"));
  hand.setAttribute("aria-pressed", String(place >= 0));
  let status = () => "";
  if (place >= 0 && !hand.hidden) {
    status = place === 0 ? words("hand.next") : words("hand.place", { place: place + 1 });
  }
  localize($("hand-status"), status);
}

export function onHands(f, cur) {
  const raised = applyHands(cur, f);
  if (S.role === "facilitator" && cur.joined && raised.length > 0) {
    const who = raised.map((p) => handleOf(cur, p));
    facStatus(words("hands.raised", { count: who.length, who: () => list(who) }));
  }
  renderHands(cur);
  renderMemberTools(cur);
  updateComposer();
}

export function renderHands(cur) {
  const rows = cur.hands.map((pid, i) => {
    const h = handleOf(cur, pid);
    const p = cur.participants.get(pid);
    return el("li", { className: "hand", dataset: { participant: pid } },
      el("div", { className: "p-info" },
        el("span", { className: "p-handle", text: `${i + 1}. ${h}` }),
        p && p.listening ? el("span", { className: "badge", t: "panel.listening" }) : null),
      el("div", { className: "p-actions" },
        button("hands.callOn", () => roomFrame("call_on", { participant: pid },
          words("hands.calledOn", { handle: h })), { className: "button small",
          label: "hands.callOn.label", args: { handle: h } }),
        button("hands.lower", () => roomFrame("lower_hand", { participant: pid },
          words("hands.lowered", { handle: h })), { label: "hands.lower.label",
          args: { handle: h } })));
  });
  $("hands").replaceChildren(...rows);
  $("hands-empty").hidden = rows.length > 0;
  $("hands-count").textContent = rows.length ? `(${rows.length})` : "";
}

/** Raise or lower this member's own hand. */
export function toggleHand(cur) {
  const raised = cur.hands.includes(cur.participant);
  request({ type: raised ? "lower_hand" : "raise_hand", room: cur.id }, () => {
    if (S.cur !== cur) return;
    // Raised: the place in line is read from its own status line.
    setStatus(raised ? words("hand.lowered") : null);
  }, (err) => {
    if (err.code !== "disconnected") alertStatus(failed(err));
  });
}

/** Listen only (`on`) or talk; `quiet` when asked again after a reconnect. */
export function setListening(cur, on, quiet) {
  request({ type: on ? "listen" : "talk", room: cur.id }, (ack) => {
    if (S.cur !== cur) return;
    cur.listening = typeof ack.listening === "boolean" ? ack.listening : on;
    const me = cur.participants.get(cur.participant);
    if (me) me.listening = cur.listening;
    renderParticipants(cur);
    renderMemberTools(cur);
    updateComposer();
    if (quiet) return;
    setStatus(null);
    if (cur.listening) {
      announce(t("tools.listening.said"));
      $("listen-toggle").focus();
    } else if (!$("message-input").disabled) {
      $("message-input").focus();
    }
  }, (err) => {
    if (S.cur !== cur || err.code === "disconnected") return;
    if (err.code === "unknown_type") {
      cur.listening = false;
      $("listen-toggle").hidden = true; // an older server
    }
    alertStatus(failed(err));
  });
}

// "Sam, Ana and Kai" in the reader's language.
function list(names) {
  return new Intl.ListFormat(locale(), { type: "conjunction" }).format(names);
}
