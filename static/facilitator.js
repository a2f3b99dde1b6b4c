// A facilitator's tools: the participant list with its actions, the action dialog (mute,
// unmute, remove, flag, delete, end session), the queue of reports, flags and crisis alerts,
// the audit log, room controls, and the sign-in under "For facilitators".

import { FAC_KEY } from "./device.js";
import { $, button, el } from "./dom.js";
import { fmtTime, fmtUntil, parseTime, plural } from "./format.js";
import { request } from "./network.js";
import { announce, facAlert, facStatus, setNotice } from "./notices.js";
import { talkPrivately } from "./private.js";
import { handleOf, shownText } from "./room-model.js";
import { S } from "./state.js";
import { getItem } from "./storage.js";

const MOD = {
  mute: { title: "Mute", about: (h) => `${h} will still read the room but can't write.`,
    minutes: true, reason: "Reason (shown to them)", confirm: "Mute" },
  unmute: { title: "Unmute", about: (h) => `${h} will be able to write again.`,
    confirm: "Unmute" },
  remove: { title: "Remove", about: (h) => `${h} leaves the room now and can't come back ` +
    "for the time you choose.", minutes: true, reason: "Reason (shown to them)",
    confirm: "Remove" },
  flag: { title: "Flag for follow-up", about: (h) => `A private note about ${h}, for ` +
    "facilitators only.", reason: "Note (facilitators only)", required: true,
    confirm: "Flag" },
  delete: { title: "Delete message", about: (h) => `The message from ${h} disappears for ` +
    "everyone. The audit log keeps a record of the action.", confirm: "Delete" },
  end_session: { title: "End session", about: () => "The conversation is cleared for " +
    "everyone and the session ends.", confirm: "End session" },
};

/** The action dialog for `target` ({action, participant?, messageId?, handle?}). */
export function openMod(target) {
  const cur = S.cur;
  if (!cur) return;
  const spec = MOD[target.action];
  const dialog = $("mod-dialog");
  const who = target.handle || (target.participant ? handleOf(cur, target.participant) : "");
  $("mod-title").textContent = who && target.action !== "end_session" ?
    `${spec.title}: ${who}` : spec.title;
  $("mod-about").textContent = spec.about(who);
  $("mod-minutes-row").hidden = !spec.minutes;
  $("mod-reason-row").hidden = !spec.reason;
  $("mod-reason-label").textContent = spec.reason || "";
  const reasonInput = $("mod-reason");
  reasonInput.value = "";
  reasonInput.required = Boolean(spec.required);
  $("mod-minutes").value = "15";
  $("mod-confirm").textContent = spec.confirm;
  $("mod-confirm").className = ["remove", "delete", "end_session"].includes(target.action) ?
    "button danger" : "button";
  const opener = document.activeElement;
  dialog.onclose = () => {
    if (opener && opener.focus && document.contains(opener)) opener.focus();
    if (dialog.returnValue !== "confirm") return;
    const frame = { type: target.action, room: cur.id };
    const minutes = Number($("mod-minutes").value);
    const reason = reasonInput.value.trim();
    if (target.participant) frame.participant = target.participant;
    if (target.messageId !== undefined) frame.message_id = target.messageId;
    if (spec.minutes) frame.minutes = minutes;
    if (target.action === "flag") frame.note = reason;
    else if (spec.reason && reason) frame.reason = reason;
    request(frame, () => {
      if (target.action === "mute") cur.muting.set(target.participant,
        Date.now() + minutes * 60000);
      if (target.action === "unmute") cur.muting.delete(target.participant);
      if (target.action === "remove") cur.participants.delete(target.participant);
      renderParticipants(cur);
      facStatus(done(target.action, who, minutes));
    }, (err) => facAlert(`${spec.title} did not work: ${err.message || err.code}.`));
  };
  dialog.returnValue = "";
  dialog.showModal();
}

function done(action, who, minutes) {
  const dur = minutes >= 60 ? plural(Math.round(minutes / 60), "hour") :
    plural(minutes, "minute");
  return {
    mute: `${who} is muted for ${dur}.`, unmute: `${who} can write again.`,
    remove: `${who} was removed for ${dur}.`, flag: "Flag saved.",
    delete: "Message deleted.", end_session: "The session has ended.",
  }[action];
}

export function renderParticipants(cur) {
  const list = $("participants");
  const rows = [...cur.participants.values()]
    .sort((a, b) => (a.role === b.role ? String(a.handle).localeCompare(String(b.handle)) :
      a.role === "facilitator" ? -1 : 1))
    .map((p) => {
      const self = p.participant === cur.participant;
      const until = cur.muting.get(p.participant);
      const muted = (until && until > Date.now()) || p.muted === true;
      const info = el("div", { className: "p-info" },
        el("span", { className: "p-handle", text: String(p.handle) + (self ? " (you)" : "") }),
        p.role === "facilitator" ? el("span", { className: "badge fac", text: "Facilitator" })
          : null,
        p.listening ? el("span", { className: "badge", text: "Listening" }) : null,
        muted ? el("span", { className: "badge warn", text: until ?
          `Muted until ${fmtUntil(until)}` : "Muted" }) : null);
      const li = el("li", { className: "participant", dataset: { participant: p.participant } },
        info);
      if (!self && p.role !== "facilitator" && S.role === "facilitator") {
        const h = String(p.handle);
        const target = { participant: p.participant, handle: h };
        li.append(el("div", { className: "p-actions" },
          button("Mute", () => openMod({ ...target, action: "mute" }),
            { ariaLabel: `Mute ${h}` }),
          button("Unmute", () => openMod({ ...target, action: "unmute" }),
            { ariaLabel: `Unmute ${h}` }),
          button("Remove", () => openMod({ ...target, action: "remove" }),
            { className: "button small danger", ariaLabel: `Remove ${h}` }),
          button("Flag", () => openMod({ ...target, action: "flag" }),
            { ariaLabel: `Flag ${h}` }),
          button("Talk privately", () => talkPrivately(cur, p.participant, h),
            { ariaLabel: `Talk privately with ${h}` })));
      }
      return li;
    });
  list.replaceChildren(...rows);
}

export function kindLabel(kind) {
  return { report: "Report", flag: "Flag", alert: "Crisis alert" }[kind] || "Item";
}

export function renderQueue(cur) {
  const items = [...cur.queue.values()].filter((i) => i.status !== "resolved");
  const rows = items.map((item) => {
    const about = [];
    if (item.participant) about.push(`about ${handleOf(cur, item.participant)}`);
    const msgId = item.message_id !== undefined && item.message_id !== null ?
      Number(item.message_id) : null;
    const msg = msgId !== null ? cur.items.get(msgId) : null;
    const at = parseTime(item.at);
    const li = el("li", { className: `queue-item ${item.kind || ""}`,
      dataset: { item: String(item.id) } },
      el("p", {}, el("strong", { text: kindLabel(item.kind) }),
        ` ${about.join(" ")}${at ? ` · ${fmtTime(at)}` : ""}`),
      msg ? el("blockquote", { className: "quote",
        text: shownText(cur, msgId).slice(0, 160) }) : null,
      item.note ? el("p", { className: "muted", text: String(item.note) }) : null);
    const actions = el("div", { className: "p-actions" });
    if (item.kind === "alert" && item.participant) {
      const h = handleOf(cur, item.participant);
      actions.append(button("Talk privately", () => talkPrivately(cur,
        String(item.participant), h), { ariaLabel: `Talk privately with ${h}` }));
    }
    if (msg) {
      actions.append(button("Show message", () => {
        msg.scrollIntoView({ block: "center" });
        msg.focus();
      }));
    }
    actions.append(button("Resolve", () => request({ type: "resolve", room: cur.id,
      item: item.id }, () => {
      cur.queue.delete(String(item.id));
      renderQueue(cur);
      facStatus("Resolved.");
    }, (err) => facAlert(`Resolve did not work: ${err.message || err.code}.`)),
    { className: "button small", ariaLabel: `Resolve ${kindLabel(item.kind).toLowerCase()}` }));
    li.append(actions);
    return li;
  });
  $("queue").replaceChildren(...rows);
  $("queue-empty").hidden = rows.length > 0;
  $("queue-count").textContent = rows.length ? `(${rows.length})` : "";
}

/** The frames of the queue, the audit log and the notes only facilitators get. */
export const FACILITATOR_HANDLERS = {
  queue: (f, cur) => {
    cur.queue.clear();
    for (const item of f.items || []) cur.queue.set(String(item.id), item);
    renderQueue(cur);
  },
  queue_item: (f, cur) => {
    if (f.item && f.item.id !== undefined) {
      cur.queue.set(String(f.item.id), f.item);
      renderQueue(cur);
      facStatus(`New ${kindLabel(f.item.kind).toLowerCase()} in the queue.`);
    }
  },
  resolved: (f, cur) => {
    const id = typeof f.item === "object" && f.item ? f.item.id : f.item;
    cur.queue.delete(String(id));
    renderQueue(cur);
  },
  reported: (f) => facStatus(`A member reported ${f.message_id ? "a message" : "a participant"}.`),
  flagged: () => facStatus("Flag saved."),
  alert: onAlert,
  audit_log: onAuditLog,
};

function onAlert(f, cur) {
  if (S.role !== "facilitator") return;
  const who = f.participant ? handleOf(cur, f.participant) : "someone";
  const msg = cur.items.get(Number(f.message_id));
  if (msg) msg.classList.add("alerted");
  facAlert(`Crisis language alert: a message from ${who} may need your attention.`);
}

function onAuditLog(f, cur) {
  const rows = (Array.isArray(f.entries) ? f.entries : []).map((e) => {
    const at = parseTime(e.at);
    const parts = [at ? fmtUntil(at) : "", String(e.by || ""), String(e.action || "")];
    if (e.participant) parts.push(handleOf(cur, e.participant));
    if (e.message_id !== undefined && e.message_id !== null) parts.push(`message ${e.message_id}`);
    return el("li", {}, el("span", { text: parts.filter(Boolean).join(" · ") }),
      e.reason ? el("span", { className: "muted", text: ` — ${e.reason}` }) : null);
  });
  if (rows.length === 0) rows.push(el("li", { className: "muted", text: "No actions yet." }));
  $("audit-list").replaceChildren(...rows);
  $("audit").hidden = false;
}

/** A room control frame; `control` is put away when the server does not know the action. */
export function roomFrame(type, extra, doneText, control) {
  const cur = S.cur;
  if (!cur) return;
  request({ type, room: cur.id, ...extra }, () => facStatus(doneText), (err) => {
    if (err.code === "unknown_type" && control) {
      // An older server without this action: say so once and put the control away.
      control.disabled = true;
      facAlert("This server does not support that action yet.");
      return;
    }
    facAlert(`That did not work: ${err.message || err.code}.`);
  });
}

/** "For facilitators": signed in or out, with `problem` said when there is one. */
export function updateFacilitatorSignin(problem) {
  const signedIn = Boolean(getItem("session", FAC_KEY));
  $("fac-signed-in").hidden = !signedIn;
  $("fac-signed-out").hidden = signedIn;
  if (problem) {
    $("fac-details").open = true;
    let p = $("fac-problem");
    if (!p) {
      p = el("p", { id: "fac-problem", className: "notice warn" });
      $("fac-signed-out").prepend(p);
    }
    p.textContent = problem;
  }
}

export function showFacilitatorNotice(text) {
  if (S.cur) setNotice("fac-token", text, "warn", true);
  announce(text);
  updateFacilitatorSignin(text);
}
