"""Lua scripts of the Redis broker. Each runs atomically on the server in one round trip.

Keys of one room share the hash tag `{room}`, so on Redis Cluster they live in one slot.
History entries are stream entries with id `<message id>-0` and fields t (ms) and f (frame).
"""

from __future__ import annotations

__all__ = [
    "CLAIM_HANDLE",
    "PRESENCE_REFRESH",
    "DIRECTORY",
    "ENSURE_EPOCH",
    "UPDATE_LIST",
    "QUEUE_ADD",
    "QUEUE_ADD_ONCE",
    "QUEUE_RESOLVE",
    "SET_FIELD",
    "STATE_SNAPSHOT",
    "HISTORY",
    "PARTICIPANTS",
    "PRESENCE_ENTER",
    "PRESENCE_EXIT",
    "PRESENCE_SWEEP",
    "PRESENCE_UPDATE",
    "PUBLISH_MESSAGE",
    "PUBLISH_MESSAGES",
    "RESET_HISTORY",
    "ROOM_WRITE",
    "SET_AGREEMENT",
]

# What the history scripts share, as functions of a room's keys K = {seq, epoch, hist, floor,
# channel}: the room's epoch (a new one means its history was lost: tell the room), `trim`
# (drop entries past the count or age bound and raise the floor) and `keep` (the keys' expiry).
# SETs keep the keys' expiry (KEEPTTL): expiries are refreshed apart.
_ROOM = """
local function read_floor(K)
  return tonumber(redis.call('GET', K[4]) or '0')
end
local function room_epoch(K, candidate)
  local epoch = redis.call('GET', K[2])
  if not epoch then
    epoch = candidate
    redis.call('SET', K[2], epoch, 'KEEPTTL')
    local seq = tonumber(redis.call('GET', K[1]) or '0')
    redis.call('DEL', K[3])
    redis.call('SET', K[4], seq, 'KEEPTTL')
    redis.call('PUBLISH', K[5], 'C{"k":"reset","epoch":"' .. epoch .. '"}')
  end
  return epoch
end
-- Oldest first, in batches (one XRANGE and one XDEL each): past the count, or past the age.
local function trim(K, maxlen, cutoff)
  local n = redis.call('XLEN', K[3])
  local excess = n - maxlen
  local last = nil
  while n > 0 do
    local batch = redis.call('XRANGE', K[3], '-', '+', 'COUNT',
      math.min(math.max(excess, 0) + 16, 1000))
    local drop, kept = {}, #batch == 0
    for _, e in ipairs(batch) do
      if excess > 0 or tonumber(e[2][2]) < cutoff then
        drop[#drop + 1] = e[1]
        excess, n = excess - 1, n - 1
      else
        kept = true
        break
      end
    end
    if #drop > 0 then
      redis.call('XDEL', K[3], unpack(drop))
      last = drop[#drop]
    end
    if kept then break end
  end
  if last then
    local newfloor = tonumber(string.match(last, '^(%d+)'))
    if newfloor > read_floor(K) then redis.call('SET', K[4], newfloor, 'KEEPTTL') end
  end
end
-- The room's keys outlive its newest message by the age bound and a minute (`ttl`); refreshed
-- when half a minute of that is used up, not on every message (four commands saved per message).
local function keep(K, ttl)
  if redis.call('PTTL', K[1]) < ttl - 30000 then
    for i = 1, 4 do redis.call('PEXPIRE', K[i], ttl) end
  end
end
"""

# `publish(K, now, maxlen, maxage, candidate, head, tail, private)`: one message of room K
# (private: '' or the participant of a private message, not stored, sent as a control event to
# that participant and the room's facilitators). Returns id, epoch.
# The bounds are enforced every 16 messages (and on every read: HISTORY trims first), so the
# stream holds at most max_messages + 15 entries and no reader sees past the bounds.
_PUBLISH = """
local function publish(K, now, maxlen, maxage, candidate, head, tail, private)
  local epoch = room_epoch(K, candidate)
  local ttl = maxage + 60000
  local id = redis.call('INCR', K[1])
  if id == 1 then
    -- a new room, or the counter alone was lost: never hand out an id at or below the floor
    -- or one the stream already holds
    local base = read_floor(K)
    local last = redis.call('XREVRANGE', K[3], '+', '-', 'COUNT', 1)[1]
    if last then base = math.max(base, tonumber(string.match(last[1], '^(%d+)'))) end
    if base > 0 then
      id = base + 1
      redis.call('SET', K[1], id, 'KEEPTTL')
    end
  end
  local frame = head .. id .. tail
  if private ~= '' then
    local event = {k = 'to', role = 'facilitator', participant = private, frame = frame}
    redis.call('PUBLISH', K[5], 'C' .. cjson.encode(event))
    keep(K, ttl)
    return id, epoch
  end
  if maxlen > 0 then
    redis.call('XADD', K[3], id .. '-0', 't', now, 'f', frame)
    if id % 16 == 0 then trim(K, maxlen, now - maxage) end
  else
    redis.call('SET', K[4], id, 'KEEPTTL')
  end
  redis.call('PUBLISH', K[5], 'R' .. frame)
  keep(K, ttl)
  return id, epoch
end
"""

# One message. KEYS: seq, epoch, hist, floor, channel. ARGV[1] now_ms, [2] max_messages,
# [3] max_age_ms, [4] candidate epoch, [5] head, [6] tail, [7] '' or the participant of a
# private message. Returns {id, epoch}.
PUBLISH_MESSAGE = (
    _ROOM
    + _PUBLISH
    + """
local id, epoch = publish(KEYS, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4],
  ARGV[5], ARGV[6], ARGV[7])
return {id, epoch}
"""
)

# Several messages, of any rooms, in one call (the messages of one event-loop turn): Redis pays
# for a call once, not per message. KEYS: the five keys above for each message, in order; ARGV:
# the seven arguments above for each message, in order. Returns the id and epoch of each
# message, in order; a message that failed has id 0 and the error in place of its epoch, and
# the others stand (each runs under pcall: a script's writes are not undone by a later error).
PUBLISH_MESSAGES = (
    _ROOM
    + _PUBLISH
    + """
local out = {}
for i = 0, #KEYS / 5 - 1 do
  local b, a = i * 5, i * 7
  local K = {KEYS[b + 1], KEYS[b + 2], KEYS[b + 3], KEYS[b + 4], KEYS[b + 5]}
  local ok, id, epoch = pcall(publish, K, tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]),
    tonumber(ARGV[a + 3]), ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7])
  if not ok then
    id, epoch = 0, type(id) == 'table' and (id.err or 'ERR') or tostring(id)
  end
  out[b / 5 * 2 + 1] = id
  out[b / 5 * 2 + 2] = epoch
end
return out
"""
)

# Returns {epoch, floor, last_id, entries...} where entries are alternating id, frame.
# KEYS: seq, epoch, hist, floor, channel. ARGV[1] now_ms, [2] max_messages, [3] max_age_ms,
# [4] candidate epoch.
HISTORY = (
    _ROOM
    + """
local maxage = tonumber(ARGV[3])
local epoch = room_epoch(KEYS, ARGV[4])
trim(KEYS, tonumber(ARGV[2]), tonumber(ARGV[1]) - maxage)
local out = {epoch, read_floor(KEYS), tonumber(redis.call('GET', KEYS[1]) or '0')}
for _, e in ipairs(redis.call('XRANGE', KEYS[3], '-', '+')) do
  out[#out + 1] = tonumber(string.match(e[1], '^(%d+)'))
  out[#out + 1] = e[2][4]
end
keep(KEYS, maxage + 60000)
return out
"""
)

# KEYS: seq, epoch, hist, floor, channel. ARGV[1] candidate epoch, [2] ttl_ms. Begins a new
# epoch, as the prologue does, only if the room's epoch is gone (the history store lost its data):
# a process whose subscription comes back announces the loss at once, not at the next message.
# Returns the room's epoch.
ENSURE_EPOCH = """
local epoch = redis.call('GET', KEYS[2])
if epoch then return epoch end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('DEL', KEYS[3])
redis.call('SET', KEYS[4], seq, 'PX', ARGV[2])
redis.call('PUBLISH', KEYS[5], 'C{"k":"reset","epoch":"' .. ARGV[1] .. '"}')
return ARGV[1]
"""

# KEYS: seq, epoch, hist, floor. ARGV[1] new epoch, [2] ttl_ms.
RESET_HISTORY = """
redis.call('SET', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('SET', KEYS[4], tonumber(redis.call('GET', KEYS[1]) or '0'))
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2])) end
return ARGV[1]
"""

# Identity entries of a room: handles (name -> participant), owned (participant -> name), roles
# (participant -> latest role), agreed (participant -> rules version), seen (sorted set:
# participant scored by when last seen, ms), and idscan (progress of giving a score to entries
# written before `seen` existed). An entry lives `ttl` ms after its participant was last seen:
# each call forgets at most `limit` expired participants (bounded work), and every key expires
# `ttl` after the last call, when all its entries have.
# KEYS: handles, owned, roles, agreed, seen, idscan. ARGV[1] participant, [2] now, [3] ttl,
# [4] limit.
_IDENTITY = """
local now, ttl, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cutoff = now - ttl
local function forget(p)
  local name = redis.call('HGET', KEYS[2], p)
  if name and redis.call('HGET', KEYS[1], name) == p then redis.call('HDEL', KEYS[1], name) end
  redis.call('HDEL', KEYS[2], p)
  redis.call('HDEL', KEYS[3], p)
  redis.call('HDEL', KEYS[4], p)
  redis.call('ZREM', KEYS[5], p)
end
local function expired(p)
  local score = redis.call('ZSCORE', KEYS[5], p)
  return score and tonumber(score) <= cutoff
end
for _, p in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', cutoff, 'LIMIT', 0, limit)) do
  forget(p)
end
local cursor = redis.call('GET', KEYS[6]) or '0'
if cursor ~= 'done' then
  -- entries of an older version carry no score: they get one (now), a page per call
  local page = redis.call('HSCAN', KEYS[3], cursor, 'COUNT', limit)
  for i = 1, #page[2], 2 do redis.call('ZADD', KEYS[5], 'NX', now, page[2][i]) end
  if page[1] == '0' then cursor = 'done' else cursor = page[1] end
  redis.call('SET', KEYS[6], cursor)
end
local function seen(p)
  redis.call('ZADD', KEYS[5], 'GT', now, p)
  for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
"""

# ARGV[5] role, [6..] candidates. Returns the handle, or false (nothing written) when every
# candidate is held by someone seen within `ttl`.
CLAIM_HANDLE = (
    _IDENTITY
    + """
local p = ARGV[1]
local chosen = redis.call('HGET', KEYS[2], p)
if not chosen then
  for i = 6, #ARGV do
    local owner = redis.call('HGET', KEYS[1], ARGV[i])
    if owner and owner ~= p and expired(owner) then
      forget(owner)
      owner = false
    end
    if not owner or owner == p then
      redis.call('HSET', KEYS[1], ARGV[i], p)
      redis.call('HSET', KEYS[2], p, ARGV[i])
      chosen = ARGV[i]
      break
    end
  end
end
if not chosen then return false end
redis.call('HSET', KEYS[3], p, ARGV[5])
seen(p)
return chosen
"""
)

# ARGV[5] rules version.
SET_AGREEMENT = (
    _IDENTITY
    + """
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
seen(ARGV[1])
return 1
"""
)

# Presence: a sorted set of "participant|process" scored by expiry, and a hash of summaries.
_LIVE = """
local function live_ids(now)
  local ids, count = {}, 0
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
    local p = string.match(m, '^([^|]+)')
    if not ids[p] then ids[p] = true; count = count + 1 end
  end
  return ids, count
end
local function staff(ids)
  local n = 0
  for p, _ in pairs(ids) do
    local info = redis.call('HGET', KEYS[2], p)
    if info and cjson.decode(info)['role'] == 'facilitator' then n = n + 1 end
  end
  return n
end
"""

# Seats (rooms/seats.py): KEYS[3] is a sorted set of participants whose connection dropped,
# scored by when their held seat ends. The rule is `rooms.seats.has_seat`, checked and taken in
# the same script that enters presence: scripts run one at a time, so processes admitting at
# once never seat more than the capacity.
_SEATS = """
local function seats_held(now)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  return redis.call('ZCARD', KEYS[3])
end
"""

# KEYS: pres, pinfo, seats. ARGV[1] participant, [2] process, [3] now, [4] ttl, [5] info,
# [6] capacity (0: no seat needed). Returns {first, count, staff, replaced, full}; when full
# (no seat for a newcomer) nothing is written.
PRESENCE_ENTER = (
    _LIVE
    + _SEATS
    + """
local before, present = live_ids(ARGV[3])
local first = before[ARGV[1]] and 0 or 1
local capacity = tonumber(ARGV[6] or '0')
if first == 1 and capacity > 0 then
  local held = seats_held(ARGV[3])
  local mine = redis.call('ZSCORE', KEYS[3], ARGV[1])
  if not mine and present - staff(before) + held >= capacity then
    return {0, present, staff(before), 0, 1}
  end
end
redis.call('ZREM', KEYS[3], ARGV[1])
local replaced = 0
if first == 0 and redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[5] then replaced = 1 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1] .. '|' .. ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
local keep = math.max(tonumber(ARGV[4]) * 4, 120000)
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('PEXPIRE', KEYS[2], keep)
local ids, count = live_ids(ARGV[3])
return {first, count, staff(ids), replaced, 0}
"""
)

# KEYS: pres, pinfo, seats. ARGV[1] participant, [2] process, [3] now, [4] hold ms (0: none).
PRESENCE_EXIT = (
    _LIVE
    + """
local removed = redis.call('ZREM', KEYS[1], ARGV[1] .. '|' .. ARGV[2])
local ids, count = live_ids(ARGV[3])
local last = 0
if removed == 1 and not ids[ARGV[1]] then
  local info = redis.call('HGET', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  last = 1
  local hold = tonumber(ARGV[4] or '0')
  if hold > 0 and not (info and cjson.decode(info)['role'] == 'facilitator') then
    redis.call('ZADD', KEYS[3], tonumber(ARGV[3]) + hold, ARGV[1])
    redis.call('PEXPIRE', KEYS[3], math.max(hold, redis.call('PTTL', KEYS[3])))
  end
end
return {last, count, staff(ids)}
"""
)

# KEYS: pinfo. ARGV[1] participant, [2] info. Replaces the summary of a participant still
# present (one that has a summary) only: checked and written in one step, so an exit between
# the two cannot leave a summary behind for one who left.
PRESENCE_UPDATE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 1
"""

# KEYS: pres, pinfo. ARGV[1] now. Returns the summaries of participants left with no entry.
PRESENCE_SWEEP = (
    _LIVE
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #expired == 0 then return {} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local ids = live_ids(ARGV[1])
local gone, out = {}, {}
for _, m in ipairs(expired) do
  local p = string.match(m, '^([^|]+)')
  if not ids[p] and not gone[p] then
    gone[p] = true
    local info = redis.call('HGET', KEYS[2], p)
    if info then
      out[#out + 1] = info
      redis.call('HDEL', KEYS[2], p)
    end
  end
end
return out
"""
)

# The summaries of who is present, in participant order: one round trip for a join's list.
# KEYS: pres, pinfo. ARGV[1] now_ms.
PARTICIPANTS = (
    _LIVE
    + """
local ids = {}
for p, _ in pairs(live_ids(ARGV[1])) do ids[#ids + 1] = p end
table.sort(ids)
local out = {}
for i = 1, #ids, 500 do
  local infos = redis.call('HMGET', KEYS[2], unpack(ids, i, math.min(i + 499, #ids)))
  for _, info in ipairs(infos) do
    if info then out[#out + 1] = info end
  end
end
return out
"""
)

# Durable room state runs on the state store, which may be another server than the history
# store that carries the channel: these scripts write and return the change's version, and the
# broker publishes the change itself. The version is the store's clock in microseconds, or one
# more than the last version when that is higher: it only grows, even past a store that lost its
# last writes (a crash with `appendfsync everysec`) or its counter. A subscriber applies a change
# only if it is newer than what it holds of that field, whatever the order in which publishes
# from different processes arrive.
# KEYS[1] state hash, KEYS[2] state version.
_VERSION = """
local function bump(keep)
  local t = redis.call('TIME')
  local now = (tonumber(t[1]) - 1600000000) * 1000000 + tonumber(t[2])
  local n = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0') + 1)
  redis.call('SET', KEYS[2], string.format('%d', n))
  redis.call('PEXPIRE', KEYS[2], math.max(keep, redis.call('PTTL', KEYS[1])))
  return n
end
"""

# KEYS: state hash, state version. ARGV[1] field, [2] JSON value or '' to clear, [3] keep_ms.
# Returns the change's version.
SET_FIELD = (
    _VERSION
    + """
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
local keep = tonumber(ARGV[3])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return bump(keep)
"""
)

# KEYS: state hash, state version. Returns {version, field, value, field, value, ...}: the
# fields as of that version, read at once.
STATE_SNAPSHOT = """
local out = {tonumber(redis.call('GET', KEYS[2]) or '0')}
for _, v in ipairs(redis.call('HGETALL', KEYS[1])) do out[#out + 1] = v end
return out
"""

# KEYS: queue hash, queue counter. ARGV[1] item JSON without id, [2] keep_ms. Returns the id.
QUEUE_ADD = """
local id = 'q' .. redis.call('INCR', KEYS[2])
local item = cjson.decode(ARGV[1])
item['id'] = id
redis.call('HSET', KEYS[1], id, cjson.encode(item))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return id
"""

# KEYS: queue hash. ARGV[1] id, [2] resolved by, [3] keep_ms. Returns the item JSON or false.
QUEUE_RESOLVE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local item = cjson.decode(raw)
item['status'] = 'resolved'
item['resolved_by'] = ARGV[2]
raw = cjson.encode(item)
redis.call('HSET', KEYS[1], ARGV[1], raw)
return raw
"""

# KEYS: state hash, state version. ARGV[1] field, [2] item, [3] '1' add / '0' remove,
# [4] keep_ms. Returns {new list JSON, version}.
UPDATE_LIST = (
    _VERSION
    + """
local items = cjson.decode(redis.call('HGET', KEYS[1], ARGV[1]) or '[]')
local out, found = {}, false
for _, v in ipairs(items) do
  if v == ARGV[2] then found = true end
  if not (v == ARGV[2] and ARGV[3] == '0') then out[#out + 1] = v end
end
if ARGV[3] == '1' and not found then out[#out + 1] = ARGV[2] end
local value = '[]'
if #out > 0 then value = cjson.encode(out) end
redis.call('HSET', KEYS[1], ARGV[1], value)
local keep = tonumber(ARGV[4])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return {value, bump(keep)}
"""
)

# KEYS: pres, pinfo. ARGV[1] now. Returns {members, facilitators} (the lock is durable state,
# read from the state store).
DIRECTORY = (
    _LIVE
    + """
local ids, count = live_ids(ARGV[1])
return {count, staff(ids), redis.call('ZCOUNT', KEYS[3], '(' .. ARGV[1], '+inf')}
"""
)

# KEYS: pres, pinfo. ARGV[1] expiry ms, [2] keep ms, then pairs of "participant|process" and
# its JSON summary ('' for an entry in a grace period: extended only if it still exists).
# One call per room per heartbeat, however many participants it has.
PRESENCE_REFRESH = """
local expiry = tonumber(ARGV[1])
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i])
  else
    redis.call('ZADD', KEYS[1], expiry, ARGV[i])
    redis.call('HSETNX', KEYS[2], string.match(ARGV[i], '^([^|]+)'), ARGV[i + 1])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""


# -- reports: one open item per reporter and target ----------------------------------------------
# KEYS: queue hash, queue counter. ARGV[1] item JSON without id, [2] keep_ms, [3] cap.
# Returns {'merged', id} for an open item of the same kind, by and target; {'full', ''} when the
# same kind and by already have cap open items; else {'added', new id} (stored as QUEUE_ADD).
QUEUE_ADD_ONCE = """
local item = cjson.decode(ARGV[1])
local open = 0
for _, raw in ipairs(redis.call('HVALS', KEYS[1])) do
  local old = cjson.decode(raw)
  if old['status'] == 'open' and old['kind'] == item['kind'] and old['by'] == item['by'] then
    if old['participant'] == item['participant'] and old['message_id'] == item['message_id'] then
      return {'merged', old['id']}
    end
    open = open + 1
  end
end
if open >= tonumber(ARGV[3]) then return {'full', ''} end
local id = 'q' .. redis.call('INCR', KEYS[2])
item['id'] = id
redis.call('HSET', KEYS[1], id, cjson.encode(item))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {'added', id}
"""

# -- rooms edited live: one hash for the service ---------------------------------------------------
# KEYS: the rooms hash. ARGV[1] mode (seed, create, update, archive), [2] room id, [3] record
# JSON ('' to archive), [4] the rev an update expects. Returns ok, exists, archived, missing or
# conflict; only ok wrote, and raised the version "v".
ROOM_WRITE = """
local rec, gone, mode = 'r:' .. ARGV[2], 'a:' .. ARGV[2], ARGV[1]
if redis.call('HEXISTS', KEYS[1], gone) == 1 then
  if mode == 'seed' or mode == 'create' then return 'archived' end
  return 'missing'
end
local old = redis.call('HGET', KEYS[1], rec)
if mode == 'seed' or mode == 'create' then
  if old then return 'exists' end
elseif not old then
  return 'missing'
elseif mode == 'update' and tonumber(cjson.decode(old)['rev'] or 0) ~= tonumber(ARGV[4]) then
  return 'conflict'
end
if mode == 'archive' then
  redis.call('HDEL', KEYS[1], rec)
  redis.call('HSET', KEYS[1], gone, '1')
else
  redis.call('HSET', KEYS[1], rec, ARGV[3])
end
redis.call('HINCRBY', KEYS[1], 'v', 1)
return 'ok'
"""
