// node --test tests/static/: the one link rule, the client's side (static/message-html.js).
// The page parses the server's `html` in an inert <template>; here the parsed trees are built
// by hand with the few DOM fields the rebuild reads (nodeType, nodeName, nodeValue,
// getAttribute, childNodes, textContent), so every shape a parser can give is covered.

import test from "node:test";
import assert from "node:assert/strict";
import { LINK_REL, linkAttributes, safePieces, webHref } from "../../static/message-html.js";

const text = (value) => ({ nodeType: 3, nodeName: "#text", nodeValue: value, textContent: value,
  childNodes: [] });
const comment = (value) => ({ nodeType: 8, nodeName: "#comment", nodeValue: value,
  textContent: value, childNodes: [] });
function elem(name, attrs, ...childNodes) {
  return {
    nodeType: 1, nodeName: name.toUpperCase(), childNodes,
    getAttribute: (k) => (Object.hasOwn(attrs, k) ? attrs[k] : null),
    get textContent() {
      return childNodes.map((c) => c.textContent).join("");
    },
  };
}
const root = (...childNodes) => ({ nodeType: 11, childNodes });

test("the server's html for text, a line break and a link rebuilds as those pieces", () => {
  // rooms/text.py: 'see https://example.org/a?b=1&c=2.\nbye'
  const parsed = root(text("see "),
    elem("a", { href: "https://example.org/a?b=1&c=2", rel: "nofollow noopener ugc",
      target: "_blank" }, text("https://example.org/a?b=1&c=2")),
    text("."), elem("br", {}), text("bye"));
  assert.deepEqual(safePieces(parsed), [
    { text: "see " },
    { href: "https://example.org/a?b=1&c=2", text: "https://example.org/a?b=1&c=2" },
    { text: "." }, { br: true }, { text: "bye" },
  ]);
});

test("a bare domain the server linked keeps the server's http href and its own words", () => {
  const parsed = root(elem("a", { href: "http://www.example.com" }, text("www.example.com")));
  assert.deepEqual(safePieces(parsed),
    [{ href: "http://www.example.com", text: "www.example.com" }]);
});

test("rel and target are the client's, whatever the markup said", () => {
  const [piece] = safePieces(root(elem("a", { href: "https://a.org/", rel: "opener",
    target: "_self", onclick: "x()" }, text("a.org"))));
  assert.deepEqual(linkAttributes(piece),
    { href: "https://a.org/", rel: "nofollow noopener ugc", target: "_blank", text: "a.org" });
  assert.equal(LINK_REL, "nofollow noopener ugc");
});

test("a link to anything but the web shows as its words", () => {
  for (const href of ["javascript:alert(1)", " javascript:alert(1)", "JaVaScRiPt:x",
    "data:text/html,x", "mailto:a@b.org", "tel:988", "//evil.example", "/relative",
    "http:/one-slash", "https://", "https://exa mple.org", "", null]) {
    const attrs = href === null ? {} : { href };
    assert.deepEqual(safePieces(root(text("a "), elem("a", attrs, text("click")), text(" b"))),
      [{ text: "a click b" }], String(href));
  }
});

test("web hrefs pass in any letter case, as written", () => {
  assert.equal(webHref("HTTPS://EXAMPLE.ORG/Path"), "HTTPS://EXAMPLE.ORG/Path");
  assert.equal(webHref("http://x.org/é?q=<1>"), "http://x.org/é?q=<1>");
  assert.equal(webHref("ftp://x.org"), null);
  assert.equal(webHref(42), null);
});

test("any other element is dropped as markup and kept as its text", () => {
  const parsed = root(text("a"), elem("b", {}, text("bold"), elem("i", {}, text("!"))),
    elem("script", {}, text("alert(1)")), elem("img", { src: "x", onerror: "alert(1)" }),
    elem("a", { href: "https://a.org" }, elem("img", { src: "x" })), text("z"));
  assert.deepEqual(safePieces(parsed), [{ text: "abold!alert(1)z" }]);
});

test("a link wrapping other markup keeps only its words", () => {
  const parsed = root(elem("a", { href: "https://a.org" }, elem("b", {}, text("a")),
    text(".org")));
  assert.deepEqual(safePieces(parsed), [{ href: "https://a.org", text: "a.org" }]);
});

test("comments and empty text are dropped; nothing in, nothing out", () => {
  assert.deepEqual(safePieces(root(comment("x"), text(""), elem("br", {}))), [{ br: true }]);
  assert.deepEqual(safePieces(root()), []);
});

test("the pieces' words are the message's words: br for a line break, nothing lost", () => {
  const words = (pieces) => pieces.map((p) => (p.br ? "\n" : p.text)).join("");
  const parsed = root(text("<3 & \"q\" "), elem("a", { href: "http://x.org" }, text("x.org")),
    elem("br", {}), elem("br", {}), text("end"));
  assert.equal(words(safePieces(parsed)), "<3 & \"q\" x.org\n\nend");
});
