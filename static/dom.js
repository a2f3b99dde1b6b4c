// Building the page's elements. Everything from the wire goes in as text (`textContent` or
// attribute values); markup is never assigned. The client's own words go in by catalogue key
// (i18n.js), so they follow a change of language.

import { localize, localizeAttribute, words } from "./i18n.js";

export const $ = (id) => document.getElementById(id);
export const body = document.body;

/**
 * An element with options (`text`, `className`, `dataset`, `on<event>` listeners, any other
 * key as an attribute; undefined, null and false are left out) and children appended. The
 * client's own words: `t` (a catalogue key for the text) and `tLabel` (for `aria-label`), both
 * filled from `args`; `say` (a function returning the text) for words put together. Children
 * with `data-slot` are placed where the words say `{slot}`.
 */
export function el(tag, opts, ...children) {
  const node = document.createElement(tag);
  let say = null; // the words, put in after the children (which may be their slots)
  if (opts) {
    for (const [k, v] of Object.entries(opts)) {
      if (v === undefined || v === null || v === false || k === "args") continue;
      if (k === "text") node.textContent = v;
      else if (k === "t") say = words(v, opts.args);
      else if (k === "say") say = v;
      else if (k === "tLabel") localizeAttribute(node, "aria-label", words(v, opts.args));
      else if (k === "className") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
  }
  for (const c of children) if (c) node.append(c);
  if (say) localize(node, say);
  return node;
}

/**
 * A button saying catalogue key `key` (filled from `opts.args`); `opts.label` is the key of its
 * aria-label. (A key the catalogues lack reads as itself, and `opts.ariaLabel` is still taken
 * as given: words not yet in a catalogue still show, in English.)
 */
export function button(key, onClick, opts = {}) {
  return el("button", { type: "button", className: opts.className || "button small secondary",
    tLabel: opts.label, "aria-label": opts.label ? null : opts.ariaLabel, args: opts.args,
    onclick: onClick, t: key });
}
