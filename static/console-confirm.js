// The console's one question before something that cannot be undone (revoking a facilitator,
// archiving a room): a modal dialog whose "Cancel" has the focus first.

import { $ } from "./dom.js";

/** Ask once: `title`, `what` it does, the `confirm` button's words; true when confirmed. */
export function confirmFirst(title, what, confirm) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-what").textContent = what;
  $("confirm-ok").textContent = confirm;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}
