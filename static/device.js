// What the web client keeps in this browser, where, and forgetting all of it.
// Pure functions over Web Storage objects (getItem, setItem, removeItem, key, length) passed in:
// no DOM, no network, so `node --test tests/static/` runs them as they run in the page. Every
// key the client writes starts with "psc.", which is how "forget" finds them all, including
// keys added after this was written.

export const PREFIX = "psc.";
export const TOKEN_KEY = "psc.member-token"; // the member token: localStorage, or sessionStorage
export const FAC_KEY = "psc.facilitator-token"; // sessionStorage only: gone when the tab closes
export const COORD_KEY = "psc.coordinator-token"; // sessionStorage only: the console's sign-in
export const AGREED_PREFIX = "psc.agreed."; // sessionStorage: rules version agreed per room
// localStorage: "tab" when the person chose to be remembered in one tab only; absent means
// the default (this device). A preference, never an identity: it is the same for everyone
// who chose it, and links to no member.
export const SCOPE_KEY = "psc.identity-scope";
// localStorage: preferences the person chose on this page, links to no member: the interface
// language ("en", "es") and the country whose crisis lines come first (ISO 3166-1 alpha-2).
export const LANGUAGE_KEY = "psc.language";
export const COUNTRY_KEY = "psc.country";

// Storage can be missing or throw (blocked cookies, private modes, a full quota): the client
// then works without persistence, so every access goes through these.
function get(store, key) {
  try {
    return store ? store.getItem(key) : null;
  } catch {
    return null;
  }
}
function set(store, key, value) {
  try {
    if (store) store.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}
function remove(store, key) {
  try {
    if (store) store.removeItem(key);
  } catch {
    /* nothing to remove, or not allowed to: either way nothing of ours is readable */
  }
}

/** "tab" when identity is kept in this tab only, else "device" (the default). */
export function scopeOf(local) {
  return get(local, SCOPE_KEY) === "tab" ? "tab" : "device";
}

/** The member token, read from the one store the scope says (never from the other). */
export function readToken(local, session) {
  return get(scopeOf(local) === "tab" ? session : local, TOKEN_KEY);
}

/** Keep a token the server gave, in the scope's store only; the other store loses any copy. */
export function writeToken(local, session, token) {
  const tab = scopeOf(local) === "tab";
  set(tab ? session : local, TOKEN_KEY, token);
  remove(tab ? local : session, TOKEN_KEY);
}

/**
 * Choose where identity is kept, "tab" or "device", and move this tab's token there so the
 * person stays who they are. Returns the scope in force afterwards.
 */
export function setScope(local, session, scope) {
  const from = scopeOf(local);
  const token = get(from === "tab" ? session : local, TOKEN_KEY);
  if (scope === "tab") {
    if (!set(local, SCOPE_KEY, "tab")) return from;
  } else {
    remove(local, SCOPE_KEY);
  }
  if (token) writeToken(local, session, token);
  else remove(scope === "tab" ? local : session, TOKEN_KEY);
  return scopeOf(local);
}

/** Every key of ours in one store. */
export function ownKeys(store) {
  const keys = [];
  try {
    if (!store) return keys;
    for (let i = 0; i < store.length; i += 1) {
      const key = store.key(i);
      if (typeof key === "string" && key.startsWith(PREFIX)) keys.push(key);
    }
  } catch {
    /* unreadable storage holds nothing we can reach */
  }
  return keys;
}

/**
 * Remove every key of ours from each store given (the member and facilitator tokens, the
 * agreed-rules marks, the preference, anything added later under "psc."). Keys of other
 * sites' scripts on the same origin are left alone. Returns the keys still there (none,
 * unless the browser refused to remove them).
 */
export function forgetAll(...stores) {
  for (const store of stores) for (const key of ownKeys(store)) remove(store, key);
  return stores.flatMap(ownKeys);
}
