-- Applies a batch of inbox entries: schedules, cancels, rejections (with their reason, which the
-- backend reads in the events stream), then acknowledges and deletes the entries, in one script:
-- an entry is never half-applied. ARGV[7]: consumer group; ARGV[8]: JSON array of ops;
-- ARGV[9]: statistics argument. Returns the number of ops applied.
local group = ARGV[7]
local ops = cjson.decode(ARGV[8])
use_stats(ARGV[9])
local inbox = prefix .. ':inbox'

local function schedule(op)
  for _, ch in ipairs(op.channels) do
    local id = op.key .. ':' .. ch
    local h = msg_key(id)
    local cur = redis.call('HMGET', h, 'status', 'intake_id', 'cancel_requested',
                           unpack(event_fields))
    -- Absent, or not yet handed to a provider, and this entry is newer than the last one applied:
    -- (re)schedule. Being sent: kept aside for the attempt's end (take_over). Anything else (sent,
    -- final, a stale entry, or a cancel already waiting) is left as it is.
    if (not cur[1]) or (replaceable(cur[1]) and newer(op.entry, cur[2])) then
      put_scheduled(id, ch, op, named(cur, 3, cur[1]))
    elseif cur[1] == 'sending' and not cur[3] and newer(op.entry, cur[2]) then
      redis.call('SET', pending_key(id), cjson.encode({op = op, channel = ch}))
      redis.call('HSET', h, 'reschedule_requested', op.entry, 'intake_id', op.entry)
    end
  end
end

local function cancel(op)
  for _, ch in ipairs({'sms', 'email'}) do
    local id = op.key .. ':' .. ch
    local h = msg_key(id)
    local cur = redis.call('HMGET', h, 'status', 'intake_id')
    if not cur[1] then
      -- A tombstone, so that an older schedule entry applied later (by another instance) is
      -- ignored.
      redis.call('HSET', h, 'key', op.key, 'channel', ch, 'status', 'cancelled', 'tombstone', '1',
                 'intake_id', op.entry, 'updated_at', now_iso)
      redis.call('EXPIRE', h, status_ttl)
    elseif not newer(op.entry, cur[2]) then  -- luacheck: ignore 542
      -- An older cancel applied late: the newer entry already applied wins.
    elseif cur[1] == 'scheduled' or cur[1] == 'retrying' then
      unschedule(id)
      redis.call('HSET', h, 'intake_id', op.entry)
      set_status(id, 'cancelled', '')
    elseif cur[1] == 'sending' then
      -- Too late to stop this attempt; applied if it ends by going back to the queue (take_over).
      redis.call('DEL', pending_key(id))
      redis.call('HDEL', h, 'reschedule_requested')
      redis.call('HSET', h, 'cancel_requested', op.entry, 'intake_id', op.entry)
    elseif cur[1] == 'rejected' then
      -- No valid schedule was ever applied: a tombstone as above, so that a schedule older than
      -- this cancel, applied later by another instance, cannot bring the key back.
      redis.call('HDEL', h, 'entry')
      set_status(id, 'cancelled', '', {'tombstone', '1', 'intake_id', op.entry})
    end
  end
end

local function reject(op)
  local recorded = false
  for _, ch in ipairs(op.channels or {}) do
    local id = op.key .. ':' .. ch
    local h = msg_key(id)
    if redis.call('EXISTS', h) == 0 then
      redis.call('HSET', h, 'key', op.key, 'channel', ch, 'department', op.department or '',
                 'event', op.event or '', 'attempts', 0, 'provider', '', 'provider_message_id', '',
                 'created_at', now_iso)
      -- No intake_id: a valid schedule of this key applied later must still win, even an older
      -- one (taken over from a dead instance), since a rejected entry never replaced anything.
      set_status(id, 'rejected', op.error, {'entry', op.entry})
      recorded = true
    end
  end
  if not recorded then
    -- No message record to attach it to (no usable key, or the key already exists with a valid
    -- message that this bad entry must not overwrite): report it on the events stream only.
    emit({'id', '', 'key', op.key or '', 'channel', '', 'department', op.department or '',
          'status', 'rejected', 'attempt', '0', 'provider', '', 'provider_message_id', '',
          'error', op.error, 'at', now_iso, 'entry', op.entry})
  end
end

local entries = {}
for _, op in ipairs(ops) do
  if op.op == 'schedule' then schedule(op)
  elseif op.op == 'cancel' then cancel(op)
  else reject(op) end
  entries[#entries + 1] = op.entry
end
-- Acknowledged in the same script that stored their effects: an entry is never half-applied.
for first = 1, #entries, 1000 do
  local chunk = {unpack(entries, first, math.min(first + 999, #entries))}
  redis.call('XACK', inbox, group, unpack(chunk))
  redis.call('XDEL', inbox, unpack(chunk))
end
flush_stats()
return #ops
