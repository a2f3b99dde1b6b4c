// This page's Web Storage, reached safely: storage can be missing or throw (blocked cookies,
// private modes, a full quota), and the client then works without persistence. What is kept
// under which key is static/device.js.

/** localStorage for "local", sessionStorage for "session", or null when unavailable. */
export function store(kind) {
  try {
    return kind === "local" ? window.localStorage : window.sessionStorage;
  } catch {
    return null;
  }
}
export function getItem(kind, key) {
  const s = store(kind);
  try {
    return s ? s.getItem(key) : null;
  } catch {
    return null;
  }
}
export function setItem(kind, key, value) {
  const s = store(kind);
  try {
    if (s) s.setItem(key, value);
  } catch {
    /* storage full or blocked: the client still works, without persistence */
  }
}
export function removeItem(kind, key) {
  const s = store(kind);
  try {
    if (s) s.removeItem(key);
  } catch {
    /* ignore */
  }
}
