-- The Redis commands rappel's scripts run per message from intake to `sent` (daemon/store/lua/:
-- intake 5, claim 3, complete 6; the per-batch commands — XACK/XDEL of the inbox, the claim's
-- ZREM/ZADD/MGET, the leases' ZREM, the statistics — are shared by up to 256 messages and left
-- out), on one key, for redis-benchmark: the ceiling of Redis alone for this work, without the
-- batching, cjson decoding and round trips of the real scripts.
local h = KEYS[1]
local c = KEYS[1] .. ':content'
local now = '2027-03-15T09:30:00.000Z'
-- intake
redis.call('HMGET', h, 'status', 'intake_id', 'key', 'channel', 'department', 'attempts',
           'provider', 'provider_message_id', 'segments')
redis.call('SET', c, string.rep('x', 300))
redis.call('ZADD', 'bench:schedule', 1, h)
redis.call('HSET', h, 'status', 'scheduled', 'updated_at', now, 'error', '', 'key', 'k',
           'channel', 'sms', 'department', '77', 'event', 'rdv_upcoming_reminder', 'send_at', now,
           'send_at_ms', 1, 'expires_at', '', 'expires_at_ms', 0, 'intake_id', '1-0',
           'attempts', 0, 'provider', '', 'provider_message_id', '', 'created_at', now)
redis.call('XADD', 'bench:events', 'MAXLEN', '~', 100000, '*', 'id', h, 'status', 'scheduled')
-- claim
redis.call('HMGET', h, 'status', 'expires_at_ms', 'key', 'channel', 'department', 'event',
           'send_at_ms', 'pinned_provider', 'key', 'channel', 'department', 'attempts',
           'provider', 'provider_message_id', 'segments')
redis.call('HSET', h, 'status', 'sending', 'updated_at', now, 'error', '', 'attempts', 1)
redis.call('XADD', 'bench:events', 'MAXLEN', '~', 100000, '*', 'id', h, 'status', 'sending')
-- complete
redis.call('HMGET', h, 'status', 'error', 'key', 'channel', 'department', 'attempts', 'provider',
           'provider_message_id', 'segments')
redis.call('HSET', h, 'status', 'sent', 'updated_at', now, 'error', '', 'provider', 'p',
           'provider_message_id', 'm1')
redis.call('XADD', 'bench:events', 'MAXLEN', '~', 100000, '*', 'id', h, 'status', 'sent')
redis.call('EXPIRE', c, 604800)
redis.call('EXPIRE', h, 15552000)
redis.call('SET', h .. ':pmid', h, 'EX', 604800)
return 1
