// The admin API as the coordinator console calls it: the coordinator token kept for this tab
// (sessionStorage), and one fetch on the page's own origin that never throws.

import { COORD_KEY } from "./device.js";
import { getItem } from "./storage.js";

/** The coordinator token this tab signed in with, or null. */
export function token() {
  return getItem("session", COORD_KEY);
}

/** One admin API call: `{ok, status, data}`; status 0 when the server was not reached. */
export async function api(method, path, body) {
  const headers = { accept: "application/json", authorization: `Bearer ${token() || ""}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    return { ok: false, status: 0, data: null };
  }
  let data = null;
  if (res.status !== 204) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  return { ok: res.ok, status: res.status, data };
}
