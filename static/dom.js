// Building the page's elements. Everything from the wire goes in as text (`textContent` or
// attribute values); markup is never assigned.

export const $ = (id) => document.getElementById(id);
export const body = document.body;

/**
 * An element with options (`text`, `className`, `dataset`, `on<event>` listeners, any other
 * key as an attribute; undefined, null and false are left out) and children appended.
 */
export function el(tag, opts, ...children) {
  const node = document.createElement(tag);
  if (opts) {
    for (const [k, v] of Object.entries(opts)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "className") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

export function button(label, onClick, opts = {}) {
  return el("button", { type: "button", className: opts.className || "button small secondary",
    "aria-label": opts.ariaLabel, onclick: onClick, text: label });
}

/** The crisis lines dialog, one tap away on every screen. */
export function openHelp() {
  $("help").showModal();
}
