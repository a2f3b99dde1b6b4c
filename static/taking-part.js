// Taking part: just listening or talking, raised hands and the member's place in line, and a
// facilitator's list of raised hands with Call on and Lower.

import { updateComposer } from "./composer.js";
import { $, button, el } from "./dom.js";
import { renderParticipants, roomFrame } from "./facilitator.js";
import { request } from "./network.js";
import { alertStatus, announce, facStatus, setStatus } from "./notices.js";
import { applyHands, handleOf, isMember } from "./room-model.js";
import { S } from "./state.js";

export function renderMemberTools(cur) {
  const show = cur.everJoined && !cur.removed && isMember(cur);
  $("member-tools").hidden = !show;
  if (!show) return;
  const toggle = $("listen-toggle");
  toggle.textContent = cur.listening ? "Talk" : "Just listen";
  $("listen-note").textContent = cur.listening ?
    "You are listening. Nobody will call on you, and the message box is put away. " +
    "Choose Talk whenever you want to write." :
    "You can just listen: nobody will ask you to speak.";
  const agreed = cur.agreedVersion > 0 && cur.agreedVersion >= cur.rulesVersion;
  const hand = $("hand-toggle");
  const place = cur.hands.indexOf(cur.participant);
  hand.hidden = cur.listening || !agreed;
  hand.textContent = place >= 0 ? "Lower hand" : "Raise hand";
  hand.setAttribute("aria-pressed", String(place >= 0));
  let status = "";
  if (place >= 0 && !hand.hidden) {
    status = place === 0 ? "Your hand is raised: you are next in line." :
      `Your hand is raised: you are number ${place + 1} in line.`;
  }
  if ($("hand-status").textContent !== status) $("hand-status").textContent = status;
}

export function onHands(f, cur) {
  const raised = applyHands(cur, f);
  if (S.role === "facilitator" && cur.joined && raised.length > 0) {
    facStatus(`${raised.map((p) => handleOf(cur, p)).join(", ")} raised a hand.`);
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
        p && p.listening ? el("span", { className: "badge", text: "Listening" }) : null),
      el("div", { className: "p-actions" },
        button("Call on", () => roomFrame("call_on", { participant: pid },
          `You called on ${h}.`), { className: "button small", ariaLabel: `Call on ${h}` }),
        button("Lower", () => roomFrame("lower_hand", { participant: pid },
          `${h}'s hand is lowered.`), { ariaLabel: `Lower ${h}'s hand` })));
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
    setStatus(raised ? "Your hand is lowered." : "");
  }, (err) => {
    if (err.code !== "disconnected") alertStatus(`That did not work: ` +
      `${err.message || err.code}.`);
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
    setStatus("");
    if (cur.listening) {
      announce("You are listening. The message box is put away.");
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
    alertStatus(`That did not work: ${err.message || err.code}.`);
  });
}
