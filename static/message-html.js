// The one link rule: a message is shown from the server's `html` (docs/protocol.md "Message
// text": the text with every tag escaped and web links made clickable, by the server alone).
// The client still trusts no markup: the parsed `html` is rebuilt from text, line breaks and
// http(s) links only, and anything else is kept as its text. Pure over a parsed node tree (a
// DOM in the page; any object with the same few fields in `node --test`).

export const LINK_REL = "nofollow noopener ugc";

const TEXT_NODE = 3;
const ELEMENT_NODE = 1;

/** The href of a web link, or null: http(s) only, and one the URL parser accepts. */
export function webHref(href) {
  if (typeof href !== "string" || !/^https?:\/\//i.test(href)) return null;
  try {
    const url = new URL(href);
    return url.protocol === "http:" || url.protocol === "https:" ? href : null;
  } catch {
    return null;
  }
}

/**
 * The pieces a parsed message shows, in order: {text}, {br: true} or {href, text}. Text nodes
 * are kept; `<br>` is a line break; `<a>` with a web href is a link with its text; any other
 * element, or a link with another href, shows as its text (never as markup); comments are
 * dropped. Adjacent texts are merged.
 */
export function safePieces(root) {
  const pieces = [];
  const text = (t) => {
    if (!t) return;
    const last = pieces[pieces.length - 1];
    if (last && last.href === undefined && !last.br) last.text += t;
    else pieces.push({ text: t });
  };
  for (const node of root.childNodes) {
    if (node.nodeType === TEXT_NODE) {
      text(node.nodeValue);
    } else if (node.nodeType === ELEMENT_NODE) {
      const tag = String(node.nodeName).toUpperCase();
      const href = tag === "A" ? webHref(node.getAttribute("href")) : null;
      if (tag === "BR") pieces.push({ br: true });
      else if (href && node.textContent) pieces.push({ href, text: node.textContent });
      else text(node.textContent);
    }
  }
  return pieces;
}

/** Element options for a link piece: the rel and target are ours, not the wire's. */
export function linkAttributes(piece) {
  return { href: piece.href, rel: LINK_REL, target: "_blank", text: piece.text };
}
