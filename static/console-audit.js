// The coordinator console's record of what coordinators did (`GET /api/admin/audit`): newest
// first, each entry a sentence with its time in the reader's zone; the newest 50 unless all
// are asked for. Loaded on sign-in and after every change made in this console.

import { api } from "./console-api.js";
import { auditText, invitedNames } from "./console-queue-model.js";
import { roomName } from "./console-rooms.js";
import { wordsFor } from "./console-words.js";
import { $, el } from "./dom.js";

// The words: the message catalogues (static/i18n/), under this prefix.
const say = wordsFor("console.record");

const SHOWN = 50;
let all = false; // every entry shown, not only the newest
let drawn = ""; // what is on screen, so an unchanged log is not drawn again
let hooks = null;
const whenFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short",
  day: "numeric", hour: "2-digit", minute: "2-digit" });

function draw(entries) {
  const newest = [...entries].reverse();
  const shown = all ? newest : newest.slice(0, SHOWN);
  const names = invitedNames(entries);
  const key = `${all}:${entries.length}:${JSON.stringify(newest[0] || null)}`;
  if (key === drawn) return;
  drawn = key;
  $("admin-audit").replaceChildren(...shown.map((e) => {
    const at = Date.parse(e.at);
    return el("li", {}, Number.isFinite(at) ? el("time", { datetime: String(e.at),
      text: whenFmt.format(new Date(at)) }) : null, " ", auditText(e, names, roomName));
  }));
  $("admin-audit-empty").hidden = entries.length > 0;
  const more = $("admin-audit-more");
  more.hidden = shown.length === entries.length;
  more.textContent = say("more", { count: entries.length });
}

/** Load the record (again); `given` are console.js's hooks. */
export async function loadAudit(given) {
  hooks = given || hooks;
  if (!hooks) return;
  const more = $("admin-audit-more");
  if (!more.dataset.wired) {
    more.dataset.wired = "1";
    more.addEventListener("click", () => {
      all = true;
      loadAudit().then(() => {
        // The button is gone: the reader goes on from the first entry it brought.
        const next = $("admin-audit").children[SHOWN];
        if (next) {
          next.tabIndex = -1;
          next.focus();
        }
      });
    });
  }
  const answer = await api("GET", "/api/admin/audit");
  if (!hooks) return;
  if (answer.ok && Array.isArray(answer.data)) draw(answer.data.filter((e) => e && e.action));
  else hooks.refused(answer, say("failed"));
}

/** Signed out: nothing of the record is left on screen. */
export function clearAudit() {
  hooks = null;
  all = false;
  drawn = "";
  $("admin-audit").replaceChildren();
  $("admin-audit-more").hidden = true;
}
