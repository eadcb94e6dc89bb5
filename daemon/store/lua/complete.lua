-- Records the outcomes of claimed messages: sent, retrying or failed, with their events, the
-- receipt index of what was sent and any reschedule or cancel that came meanwhile; ends their
-- leases. ARGV[7]: JSON array of outcomes; ARGV[8]: receipt index TTL (s); ARGV[9]: statistics.
-- Returns the number of leases ended.
local outcomes = cjson.decode(ARGV[7])
local index_ttl = tonumber(ARGV[8])
use_stats(ARGV[9])
local look_for_parked = any_parked()
local optional_fields = {'provider_message_id', 'segments', 'encoding', 'parts'}
local released = {}  -- leases ended, removed with one ZREM
for _, c in ipairs(outcomes) do
  local h = msg_key(c.id)
  local m = redis.call('HMGET', h, 'status', 'error', 'cancel_requested', 'reschedule_requested',
                       'priority', unpack(event_fields))
  local known = named(m, 5, m[1])
  local lane = lane_key(m[5])
  local cancel_requested, reschedule_requested = m[3], m[4]
  -- Only the holder of the current lease may complete: a daemon whose lease ran out and whose
  -- message was claimed again must not overwrite the newer attempt.
  if m[1] == 'sending' and known.attempts == tostring(c.attempt) then
    released[#released + 1] = c.id
    local fields = {'provider', c.provider or ''}
    for _, name in ipairs(optional_fields) do
      if c[name] ~= nil and c[name] ~= '' then append(fields, {name, tostring(c[name])}) end
    end
    local extra = nil
    if c.outcome_unknown then
      append(fields, {'outcome_unknown', '1'})
      extra = {'outcome_unknown', '1'}
      -- Pinned for good: another provider could send it a second time.
      if c.provider and c.provider ~= '' then
        redis.call('HSETNX', h, 'pinned_provider', c.provider)
      end
      -- Counted toward retry.max_unknown_attempts (the dispatcher's decision, retry_policy.cpp).
      redis.call('HINCRBY', h, 'unknown_attempts', 1)
    end
    -- Not handed to any provider (quiet hours, open circuit, rate limit): the claim's attempt is
    -- given back.
    if c.not_attempted then known.attempts = redis.call('HINCRBY', h, 'attempts', -1) end
    if c.status == 'deferred' then
      if not take_over(c.id, cancel_requested, reschedule_requested, nil, nil, known) then
        local back = (c.previous_status == 'retrying') and 'retrying' or 'scheduled'
        local due = {'due_at', c.next_attempt_at, 'deferred', c.deferred}
        redis.call('ZADD', lane, c.next_attempt_ms, c.id)
        set_status(c.id, back, m[2] or '', due, due, known)
      end
    elseif c.status == 'retrying' then
      if not take_over(c.id, cancel_requested, reschedule_requested, fields, extra, known) then
        if c.next_attempt_at and c.next_attempt_at ~= '' then
          append(fields, {'next_attempt_at', c.next_attempt_at})
        end
        redis.call('ZADD', lane, c.next_attempt_ms, c.id)
        set_status(c.id, c.status, c.error, fields, extra, known)
      end
    else
      extra = too_late(c.id, cancel_requested, reschedule_requested, extra)
      set_status(c.id, c.status, c.error, fields, extra, known)
      if c.status == 'sent' and c.on_time then
        count_stat(known.channel or '', known.department or '', 'on_time', 1)
      end
      if c.status == 'sent' then
        index_sent(c.id, c.provider or '', c.provider_message_id, index_ttl, look_for_parked)
      end
    end
  end
end
call_chunked('ZREM', inflight_key, released)
flush_stats()
return #released
