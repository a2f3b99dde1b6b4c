// Reporting a message to the room's facilitators: the dialog, and the `report` it sends.

import { $ } from "./dom.js";
import { words } from "./i18n.js";
import { request } from "./network.js";
import { alertStatus, failed } from "./notices.js";

export function openReport(cur, m) {
  const dialog = $("report-dialog");
  const form = $("report-form");
  form.reset();
  $("report-quote").textContent = `${m.handle}: ${String(m.text || "").slice(0, 200)}`;
  const opener = document.activeElement;
  dialog.onclose = () => {
    if (opener && opener.focus) opener.focus();
    if (dialog.returnValue !== "send") return;
    const choice = form.querySelector("input[name=reason]:checked");
    const detail = $("report-detail").value.trim();
    const reason = [choice ? choice.value : "other", detail].filter(Boolean).join(": ");
    request({ type: "report", room: cur.id, message_id: m.id, reason: reason.slice(0, 300) },
      () => alertStatus(words("report.sent")),
      (err) => alertStatus(err.code === "disconnected" ? words("report.offline") :
        failed(err, "report.failed")));
  };
  dialog.returnValue = "";
  dialog.showModal();
}
