// The coordinator console's words: each console module says its words with `say(key, params)`
// from `wordsFor(prefix)`, reading the message catalogues (static/i18n/) under its own prefix
// ("console.rooms.created"), in the language in force. Pure: no DOM, no network, no clock.

import { hasKey, t } from "./i18n.js";

/** `say(key, params)` for one module's words, the catalogue keys `<prefix>.<key>`. */
export function wordsFor(prefix) {
  return (key, params) => t(`${prefix}.${key}`, params);
}

/** True when the catalogues have `key` under `prefix`. */
export function hasWords(prefix, key) {
  return hasKey(`${prefix}.${key}`);
}
