// What a reconnecting client asks for and what it makes of the answer (docs/protocol.md
// "History and replay"). Per room it remembers the `epoch` it last saw and the highest message
// `id`; a `join` then carries them as `epoch` and `since`, and the `joined` answer says whether
// the gap was filled (`recovered`). Pure: the memory is a Map passed in (room id ->
// {epoch, lastId}), held by the page's state and dropped when a new role must redraw a room.

/** The `join` frame for `room`: with `since` and `epoch` when this client saw messages there. */
export function joinFrame(memory, room) {
  const frame = { type: "join", room };
  const saved = memory.get(room);
  if (saved && saved.lastId > 0) {
    frame.since = saved.lastId;
    if (saved.epoch) frame.epoch = saved.epoch;
  }
  return frame;
}

/**
 * Take in a `joined` frame for `room`. Returns `incremental` (the history only fills the gap:
 * keep what is on screen) and `gap` (we asked with `since` and the server could not fill it:
 * say so). Remembers the new epoch and the highest id seen.
 */
export function joined(memory, room, f) {
  const saved = memory.get(room);
  const hadSince = Boolean(saved && saved.lastId > 0);
  const incremental = hadSince && f.recovered === true && saved.epoch === f.epoch;
  const history = Array.isArray(f.history) ? f.history : [];
  let lastId = incremental ? saved.lastId : 0;
  for (const m of history) lastId = Math.max(lastId, Number(m.id) || 0);
  memory.set(room, { epoch: f.epoch, lastId });
  return { incremental, gap: hadSince && f.recovered === false };
}

/** A live message was shown: a later `since` starts after it. */
export function seen(memory, room, id) {
  const saved = memory.get(room);
  if (saved && Number.isFinite(id)) saved.lastId = Math.max(saved.lastId, id);
}

/** `room_reset`: the server lost the room's log and starts a new epoch from nothing. */
export function reset(memory, room, epoch) {
  memory.set(room, { epoch, lastId: 0 });
}

/** `session_ended`: the log is cleared for everyone; nothing earlier is asked for again. */
export function ended(memory, room) {
  memory.delete(room);
}
