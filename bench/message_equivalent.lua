-- The Redis commands rappel's scripts run for one message from intake to `sent` (store_scripts.cpp:
-- intake 11, claim 8, complete 7), on one key, for redis-benchmark: the ceiling of Redis alone for
-- this work, without the batching, cjson decoding and round trips of the real scripts.
local h = KEYS[1]
local c = KEYS[1] .. ':content'
local now = '2027-03-15T09:30:00.000Z'
-- intake
redis.call('HMGET', h, 'status', 'intake_id')
redis.call('HSET', h, 'attempts', 0, 'provider', '', 'provider_message_id', '', 'created_at', now)
redis.call('HSET', h, 'key', 'k', 'channel', 'sms', 'department', '77', 'event',
           'rdv_upcoming_reminder', 'send_at', now, 'send_at_ms', 1, 'expires_at', '',
           'expires_at_ms', 0, 'intake_id', '1-0')
redis.call('SET', c, string.rep('x', 300))
redis.call('PERSIST', h)
redis.call('ZADD', 'bench:schedule', 1, h)
redis.call('HSET', h, 'status', 'scheduled', 'updated_at', now, 'error', '')
redis.call('HMGET', h, 'key', 'channel', 'department', 'attempts', 'provider', 'provider_message_id')
redis.call('XADD', 'bench:events', 'MAXLEN', '~', 100000, '*', 'id', h, 'status', 'scheduled')
redis.call('XADD', 'bench:inbox', 'MAXLEN', '~', 1000, '*', 'payload', 'x')
redis.call('XDEL', 'bench:inbox', '1-1')
-- claim
redis.call('ZREM', 'bench:schedule', h)
redis.call('HMGET', h, 'status', 'expires_at_ms', 'key', 'channel', 'department', 'event', 'send_at_ms')
redis.call('HINCRBY', h, 'attempts', 1)
redis.call('ZADD', 'bench:inflight', 2, h)
redis.call('HSET', h, 'status', 'sending', 'updated_at', now, 'error', '')
redis.call('HMGET', h, 'key', 'channel', 'department', 'attempts', 'provider', 'provider_message_id')
redis.call('XADD', 'bench:events', 'MAXLEN', '~', 100000, '*', 'id', h, 'status', 'sending')
redis.call('GET', c)
-- complete
redis.call('HMGET', h, 'status', 'attempts')
redis.call('ZREM', 'bench:inflight', h)
redis.call('HSET', h, 'status', 'sent', 'updated_at', now, 'error', '', 'provider', 'p')
redis.call('HMGET', h, 'key', 'channel', 'department', 'attempts', 'provider', 'provider_message_id')
redis.call('XADD', 'bench:events', 'MAXLEN', '~', 100000, '*', 'id', h, 'status', 'sent')
redis.call('EXPIRE', c, 604800)
redis.call('EXPIRE', h, 15552000)
return 1
