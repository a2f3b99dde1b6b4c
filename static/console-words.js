// The coordinator console's words, until the client has message catalogues: each console
// module keeps its English strings in one `WORDS` object at its top (key -> text, with `{name}`
// placeholders, or {one, other} plural forms chosen by `count`), in the shape a catalogue
// takes, so they can be moved there whole. This turns such an object into `say(key, params)`.
// Pure: no DOM, no network, no clock.

const PLURALS = new Intl.PluralRules("en");

/** `say(key, params)` for one module's `words`; an unknown key is said as itself. */
export function wordsFor(words) {
  return (key, params) => {
    let entry = Object.hasOwn(words, key) ? words[key] : key;
    if (entry && typeof entry === "object") {
      const form = PLURALS.select(Number(params && params.count) || 0);
      entry = Object.hasOwn(entry, form) ? entry[form] : entry.other;
    }
    return String(entry).replace(/\{(\w+)\}/g, (whole, name) =>
      (params && Object.hasOwn(params, name) ? String(params[name] ?? "") : whole));
  };
}
