// A facilitator's tools: the participant list with its actions, the action dialog (mute,
// unmute, remove, flag, delete, end session), the queue of reports, flags and crisis alerts,
// the audit log, room controls, and the sign-in under "For facilitators".

import { FAC_KEY } from "./device.js";
import { $, button, el } from "./dom.js";
import { fmtTime, fmtUntil, parseTime } from "./format.js";
import { localize, t, words } from "./i18n.js";
import { request } from "./network.js";
import { announce, facAlert, facStatus, failed, setNotice } from "./notices.js";
import { talkPrivately } from "./private.js";
import { handleOf, shownText } from "./room-model.js";
import { S } from "./state.js";
import { getItem } from "./storage.js";

// Each action's words are catalogue keys under `mod.<action>.`: title, about ({who}), confirm,
// and the reason field's label where there is one.
const MOD = {
  mute: { minutes: true, reason: "mod.reason.shown" },
  unmute: {},
  remove: { minutes: true, reason: "mod.reason.shown" },
  flag: { reason: "mod.reason.note", required: true },
  delete: {},
  end_session: {},
};

/** The action dialog for `target` ({action, participant?, messageId?, handle?}). */
export function openMod(target) {
  const cur = S.cur;
  if (!cur) return;
  const spec = MOD[target.action];
  const dialog = $("mod-dialog");
  const who = target.handle || (target.participant ? handleOf(cur, target.participant) : "");
  const key = `mod.${target.action}`;
  localize($("mod-title"), who && target.action !== "end_session" ?
    words("mod.titleWho", { title: words(`${key}.title`), who }) : words(`${key}.title`));
  localize($("mod-about"), words(`${key}.about`, { who }));
  $("mod-minutes-row").hidden = !spec.minutes;
  $("mod-reason-row").hidden = !spec.reason;
  localize($("mod-reason-label"), spec.reason ? words(spec.reason) : () => "");
  const reasonInput = $("mod-reason");
  reasonInput.value = "";
  reasonInput.required = Boolean(spec.required);
  $("mod-minutes").value = "15";
  localize($("mod-confirm"), words(`${key}.confirm`));
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
    }, (err) => facAlert(failed(err, "mod.failed", { title: words(`${key}.title`) })));
  };
  dialog.returnValue = "";
  dialog.showModal();
}

function done(action, who, minutes) {
  const duration = minutes >= 60 ? words("time.hours", { count: Math.round(minutes / 60) }) :
    words("time.minutes", { count: minutes });
  return words(`mod.${action}.done`, { who, duration });
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
        self ? el("span", { className: "p-handle", t: "msg.you",
          args: { handle: String(p.handle) } }) :
          el("span", { className: "p-handle", text: String(p.handle) }),
        p.role === "facilitator" ? el("span", { className: "badge fac",
          t: "msg.badge.facilitator" }) : null,
        p.listening ? el("span", { className: "badge", t: "panel.listening" }) : null,
        muted ? el("span", { className: "badge warn", t: until ? "panel.mutedUntil" :
          "panel.muted", args: { time: () => fmtUntil(until, Date.now()) } }) : null);
      const li = el("li", { className: "participant", dataset: { participant: p.participant } },
        info);
      if (!self && p.role !== "facilitator" && S.role === "facilitator") {
        const h = String(p.handle);
        const target = { participant: p.participant, handle: h };
        const args = { handle: h };
        li.append(el("div", { className: "p-actions" },
          button("mod.mute.title", () => openMod({ ...target, action: "mute" }),
            { label: "panel.mute.label", args }),
          button("mod.unmute.title", () => openMod({ ...target, action: "unmute" }),
            { label: "panel.unmute.label", args }),
          button("mod.remove.title", () => openMod({ ...target, action: "remove" }),
            { className: "button small danger", label: "panel.remove.label", args }),
          button("msg.flag", () => openMod({ ...target, action: "flag" }),
            { label: "panel.flag.label", args }),
          button("panel.talk", () => talkPrivately(cur, p.participant, h),
            { label: "panel.talk.label", args })));
      }
      return li;
    });
  list.replaceChildren(...rows);
}

/** The catalogue key of a queue item's kind: a report, a flag, a crisis alert. */
export function kindKey(kind) {
  return ["report", "flag", "alert"].includes(kind) ? `queue.kind.${kind}` : "queue.kind.item";
}

export function renderQueue(cur) {
  const items = [...cur.queue.values()].filter((i) => i.status !== "resolved");
  const rows = items.map((item) => {
    const about = item.participant ? handleOf(cur, item.participant) : null;
    const msgId = item.message_id !== undefined && item.message_id !== null ?
      Number(item.message_id) : null;
    const msg = msgId !== null ? cur.items.get(msgId) : null;
    const at = parseTime(item.at);
    const li = el("li", { className: `queue-item ${item.kind || ""}`,
      dataset: { item: String(item.id) } },
      // "{kind}" places the kind's own (bold) element first.
      el("p", { say: () => ["{kind}", about ? t("queue.about", { who: about }) : "",
        at ? `· ${fmtTime(at)}` : ""].filter(Boolean).join(" ") },
      el("strong", { t: kindKey(item.kind), dataset: { slot: "kind" } })),
      msg ? el("blockquote", { className: "quote",
        text: shownText(cur, msgId).slice(0, 160) }) : null,
      item.note ? el("p", { className: "muted", text: String(item.note) }) : null);
    const actions = el("div", { className: "p-actions" });
    if (item.kind === "alert" && item.participant) {
      const h = handleOf(cur, item.participant);
      actions.append(button("panel.talk", () => talkPrivately(cur,
        String(item.participant), h), { label: "panel.talk.label", args: { handle: h } }));
    }
    if (msg) {
      actions.append(button("msg.cw.show", () => {
        msg.scrollIntoView({ block: "center" });
        msg.focus();
      }));
    }
    actions.append(button("queue.resolve", () => request({ type: "resolve", room: cur.id,
      item: item.id }, () => {
      cur.queue.delete(String(item.id));
      renderQueue(cur);
      facStatus(words("queue.resolved"));
    }, (err) => facAlert(failed(err, "queue.resolveFailed"))),
    { className: "button small", label: `${kindKey(item.kind)}.resolve` }));
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
      facStatus(words(`${kindKey(f.item.kind)}.new`));
    }
  },
  resolved: (f, cur) => {
    const id = typeof f.item === "object" && f.item ? f.item.id : f.item;
    cur.queue.delete(String(id));
    renderQueue(cur);
  },
  reported: (f) => facStatus(words(f.message_id ? "queue.reported.message" :
    "queue.reported.participant")),
  flagged: () => facStatus(words("mod.flag.done")),
  alert: onAlert,
  audit_log: onAuditLog,
};

function onAlert(f, cur) {
  if (S.role !== "facilitator") return;
  const who = f.participant ? handleOf(cur, f.participant) : () => t("msg.someone");
  const msg = cur.items.get(Number(f.message_id));
  if (msg) msg.classList.add("alerted");
  facAlert(words("queue.alert", { who }));
}

// An audit entry's action is the frame that caused it (a code): said in words, an unknown
// one as it came.
const AUDITED = ["mute", "unmute", "remove", "flag", "delete", "slow", "lock", "unlock", "pause",
  "resume", "announce", "end_session", "private_open", "private_close", "resolve"];
function auditAction(action) {
  return AUDITED.includes(action) ? t(`audit.action.${action}`) : String(action || "");
}

function onAuditLog(f, cur) {
  const rows = (Array.isArray(f.entries) ? f.entries : []).map((e) => {
    const at = parseTime(e.at);
    const parts = () => [at ? fmtUntil(at, Date.now()) : "", String(e.by || ""),
      auditAction(e.action), e.participant ? handleOf(cur, e.participant) : "",
      e.message_id !== undefined && e.message_id !== null ?
        t("audit.message", { id: String(e.message_id) }) : ""].filter(Boolean).join(" · ");
    return el("li", {}, el("span", { say: parts }),
      e.reason ? el("span", { className: "muted", text: ` — ${e.reason}` }) : null);
  });
  if (rows.length === 0) rows.push(el("li", { className: "muted", t: "audit.none" }));
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
      facAlert(words("panel.unsupported"));
      return;
    }
    facAlert(failed(err));
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
    localize(p, problem);
  }
}

/** A notice about this tab's facilitator sign-in: `say` is words (i18n.js). */
export function showFacilitatorNotice(say) {
  if (S.cur) setNotice("fac-token", say, "warn", true);
  announce(say);
  updateFacilitatorSignin(say);
}
