"""Lua scripts of the Redis broker for check-in and check-out counts (`Moods`), on the state
store. Each runs atomically in one round trip; every key carries the room's hash tag.

A session's record is a hash: `start:1`..`start:5` and `end:1`..`end:5` (counts), `started`
(ms, to the hour) and `ended` (ms). The room's listing is a sorted set of session names scored
by `started`. A marker is a key of its own whose value is the time (ms) it lapses; it is never
stored with a value or in the record.
"""

from __future__ import annotations

__all__ = ["MOOD_ADD", "MOOD_END"]

# KEYS[1] record hash, [2] listing. ARGV[1] now_ms, [2] keep_ms, [3] session name.
# Drops a record started `keep_ms` ago (and the listing's entries as old), then makes sure the
# session has a record, listed.
_RECORD = """
local now = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local old = tonumber(redis.call('HGET', KEYS[1], 'started') or '-1')
if old >= 0 and old + keep <= now then redis.call('DEL', KEYS[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', now - keep))
redis.call('HSETNX', KEYS[1], 'started', string.format('%d', now - now % 3600000))
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'started'), ARGV[3])
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('PEXPIRE', KEYS[2], keep)
"""

# KEYS[1] record hash, [2] listing, [3] marker. ARGV[1] now_ms, [2] keep_ms, [3] session,
# [4] field to count ("start:3"), [5] marker_ttl_ms. Returns 1 when counted, 0 when the marker
# was given and has not lapsed (nothing written).
MOOD_ADD = (
    """
local lapses = tonumber(redis.call('GET', KEYS[3]) or '0')
if lapses > tonumber(ARGV[1]) then return 0 end
"""
    + _RECORD
    + """
redis.call('SET', KEYS[3], string.format('%d', now + tonumber(ARGV[5])), 'PX', ARGV[5])
redis.call('HINCRBY', KEYS[1], ARGV[4], 1)
return 1
"""
)

# KEYS[1] record hash, [2] listing. ARGV[1] now_ms, [2] keep_ms, [3] session.
MOOD_END = (
    _RECORD
    + """
redis.call('HSET', KEYS[1], 'ended', ARGV[1])
return 1
"""
)
