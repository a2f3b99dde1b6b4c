// The room directory on the home screen: search, category chips, live counts polled while
// the page is shown and connected.

import { $, body, el } from "./dom.js";
import { dayTimeFmt, parseTime, plural } from "./format.js";
import { S } from "./state.js";

const ROOMS_POLL_MS = 10000;

export async function loadRooms() {
  if (S.cur) return;
  const q = $("room-search").value.trim();
  const checked = document.querySelector("#categories input:checked");
  const category = checked ? checked.value : "";
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (category) params.set("category", category);
  const mine = ++S.roomsQuery;
  let rooms;
  try {
    const res = await fetch(`/api/rooms?${params}`, { headers: { accept: "application/json" } });
    if (!res.ok) throw new Error(String(res.status));
    rooms = await res.json();
  } catch {
    if (mine === S.roomsQuery) $("rooms-status").textContent = "Couldn't load the rooms. " +
      "Trying again shortly.";
    return;
  }
  if (mine !== S.roomsQuery || !Array.isArray(rooms)) return;
  for (const r of rooms) S.catalog.set(r.id, r);
  if (!q && !category) addCategories(rooms.map((r) => r.category));
  renderRooms(rooms, q || category);
  body.dataset.rooms = "loaded";
}

function addCategories(names) {
  const box = $("categories");
  for (const name of names) {
    if (!name || S.categories.has(name)) continue;
    S.categories.add(name);
    box.append(el("label", { className: "chip" },
      el("input", { type: "radio", name: "category", value: name }),
      el("span", { text: name })));
  }
}

function renderRooms(rooms, filtered) {
  const items = rooms.map((r) => {
    const meta = [el("span", { className: "count", text: `${Number(r.members) || 0} here` })];
    if (r.facilitator_present) meta.push(el("span", { className: "badge fac",
      text: "Facilitator here" }));
    else if (r.requires_facilitator) meta.push(el("span", { className: "badge",
      text: "Opens with a facilitator" }));
    if (r.locked) meta.push(el("span", { className: "badge warn", text: "Locked" }));
    if (r.one_at_a_time) meta.push(el("span", { className: "badge",
      text: "One at a time" }));
    if (r.in_session) meta.push(el("span", { className: "badge live", text: "Session on now" }));
    else if (r.next_session) {
      const t = parseTime(r.next_session);
      if (t) meta.push(el("span", { className: "muted",
        text: `Next session ${dayTimeFmt.format(new Date(t))}` }));
    }
    return el("li", { className: `room-card${r.locked ? " locked" : ""}`,
      dataset: { room: r.id } },
      el("h3", {}, el("a", { href: `#/room/${encodeURIComponent(r.id)}`,
        text: String(r.name) })),
      el("p", { className: "category", text: String(r.category || "") }),
      el("p", { className: "desc", text: String(r.description || "") }),
      el("p", { className: "room-meta" }, ...meta));
  });
  $("rooms").replaceChildren(...items);
  $("rooms-status").textContent = items.length === 0 ? "No rooms match. Try other words." :
    filtered ? `${plural(items.length, "room")} found.` : "";
}

export function startRoomsPoll() {
  stopRoomsPoll();
  S.roomsTimer = setInterval(() => {
    if (!document.hidden && S.conn === "connected") loadRooms();
  }, ROOMS_POLL_MS);
}
export function stopRoomsPoll() {
  clearInterval(S.roomsTimer);
  S.roomsTimer = null;
}
