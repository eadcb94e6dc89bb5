-- Claims due messages for one daemon: takes back the leases that ran out, then hands out up to
-- `limit` due messages from the three priority lanes with a lease, their content included.
-- ARGV[7]: limit; ARGV[8]: lease (ms); ARGV[9]: statistics; ARGV[10]: share kept for the lower
-- lanes; ARGV[11]: rounding in [0,1). Returns {claimed, next due time, next lease deadline}.
local limit = tonumber(ARGV[7])
local lease = tonumber(ARGV[8])
use_stats(ARGV[9])
local lower_share = tonumber(ARGV[10] or '0') or 0
local rounding = tonumber(ARGV[11] or '0') or 0

-- Leases that ran out: the daemon holding them died or lost Redis for longer than the lease.
local stale = redis.call('ZRANGEBYSCORE', inflight_key, '-inf', now_ms, 'LIMIT', 0, limit)
for _, id in ipairs(stale) do
  redis.call('ZREM', inflight_key, id)
  local m = redis.call('HMGET', msg_key(id), 'status', 'cancel_requested', 'reschedule_requested',
                       'priority')
  local unknown = {'outcome_unknown', '1'}
  if m[1] == 'sending' and not take_over(id, m[2], m[3], unknown, unknown) then
    redis.call('ZADD', lane_key(m[4]), now_ms, id)
    set_status(id, 'retrying', 'lease expired while sending: outcome unknown', unknown, unknown)
  end
end

-- What is due, higher priorities first; each lower priority with messages due keeps about
-- lower_share of the batch (rounded at random by the caller's `rounding`, so that the share
-- holds on average even for batches of one), so that a flow of reminders never starves bulk.
local reserved = {0, 0, 0}
for i = 2, 3 do
  local r = math.floor(limit * lower_share + rounding)
  if r > 0 then
    reserved[i] = math.min(r, redis.call('ZCOUNT', lane_key(lanes[i]), '-inf', now_ms))
  end
end
local due = {}
for i, p in ipairs(lanes) do
  local room = limit - #due
  for j = i + 1, 3 do room = room - reserved[j] end
  if room > 0 then
    local got = redis.call('ZRANGEBYSCORE', lane_key(p), '-inf', now_ms, 'LIMIT', 0, room)
    call_chunked('ZREM', lane_key(p), got)
    append(due, got)
  end
end

-- The batch's zset changes and content reads are one command each, not one per message.
local claimed, leases, contents = {}, {}, {}
for _, id in ipairs(due) do
  local m = redis.call('HMGET', msg_key(id), 'status', 'expires_at_ms', 'key', 'channel',
                       'department', 'event', 'send_at_ms', 'pinned_provider', 'priority',
                       'unknown_attempts', unpack(event_fields))
  local known = named(m, 10, m[1])
  if m[1] == 'scheduled' or m[1] == 'retrying' then
    local expires = tonumber(m[2] or '0') or 0
    if expires > 0 and expires <= now_ms then
      set_status(id, 'expired', 'expires_at passed before it could be sent', nil, nil, known)
    else
      local attempt = (tonumber(known.attempts) or 0) + 1
      set_status(id, 'sending', '', {'attempts', attempt}, nil, known)
      append(leases, {now_ms + lease, id})
      contents[#contents + 1] = content_key(id)
      claimed[#claimed + 1] = {id, m[3] or '', m[4] or '', m[5] or '', m[6] or '', '',
                               tostring(attempt), m[7] or '0', m[2] or '0', m[1], m[8] or '',
                               m[9] or 'normal', m[10] or '0'}
    end
  end
end
call_chunked('ZADD', inflight_key, leases)
for first = 1, #contents, 1000 do
  local got = redis.call('MGET', unpack(contents, first, math.min(first + 999, #contents)))
  for i = 1, #got do claimed[first + i - 1][6] = got[i] or '{}' end
end

local next_due = nil
for _, p in ipairs(lanes) do
  local first = redis.call('ZRANGE', lane_key(p), 0, 0, 'WITHSCORES')
  if first[2] and (not next_due or tonumber(first[2]) < tonumber(next_due)) then
    next_due = first[2]
  end
end
local next_lease = redis.call('ZRANGE', inflight_key, 0, 0, 'WITHSCORES')
flush_stats()
return {claimed, next_due or '', next_lease[2] or ''}
