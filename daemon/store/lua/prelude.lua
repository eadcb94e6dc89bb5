-- The prelude of every script that changes a message: key names, events, status changes and
-- statistics. It is not run alone: store_scripts.cpp puts each script's body in a function `main`
-- ahead of it and runs `main` after it, so that the body's line numbers are its file's.
-- Common ARGV of those scripts: prefix, now_ms, now_iso, events_maxlen, content_ttl_s,
-- status_ttl_s; each script's own ARGV come after (ARGV[7] on).
--
-- Layout under <prefix>:
--   msg:<id>      hash: the message's state (no personal data)
--   content:<id>  string: recipient and template data (personal data, short retention)
--   pending:<id>  string: a reschedule that came while the message was sending (the intake entry,
--                 personal data included), applied or dropped when that attempt ends
--   schedule      zset id -> due time (ms): scheduled and retrying messages of normal priority
--   schedule:high, schedule:bulk  the same for the other priorities (priority.hpp); a message
--                 is in exactly one of the three, named by its hash's `priority` (absent: normal)
--   inflight      zset id -> lease deadline (ms): messages handed to a daemon
--   retrying      set of ids: the messages whose status is retrying (for the queue metrics)
--   stats:<day>   set of the départements counted that day; stats:<day>:<dept> hash of counters
--   inbox, events streams of the public contract
--   pmid:<account>:<provider message id>     string: our message id (receipt index, TTL)
--   receipt:<account>:<provider message id>  string: a report that came before its index (TTL)
--   receipt-id:<account>:<message id>        string: same, for reports that name our id
--   credit-low:<account>  string: the credit that was reported low, until it is back (credit.lua)
--   account:<account>     hash: the account's last known credit and each instance's circuit,
--                         for `rappel status --providers` (credit.lua, Store::record_circuit)
local prefix = ARGV[1]
local now_ms = tonumber(ARGV[2])
local now_iso = ARGV[3]
local events_maxlen = ARGV[4]
local content_ttl = tonumber(ARGV[5])
local status_ttl = tonumber(ARGV[6])
local schedule_key = prefix .. ':schedule'
local inflight_key = prefix .. ':inflight'
local final = {sent = true, delivered = true, undelivered = true, failed = true,
               expired = true, cancelled = true, rejected = true}

-- One schedule zset per priority; `normal` (and a message from before priorities) keeps the
-- original key. Claims look at them in this order.
local lanes = {'high', 'normal', 'bulk'}
local function lane_key(priority)
  if priority == 'high' or priority == 'bulk' then return schedule_key .. ':' .. priority end
  return schedule_key
end
local function unschedule(id)
  for _, p in ipairs(lanes) do redis.call('ZREM', lane_key(p), id) end
end

local function msg_key(id) return prefix .. ':msg:' .. id end
local function content_key(id) return prefix .. ':content:' .. id end

local function emit(fields)
  redis.call('XADD', prefix .. ':events', 'MAXLEN', '~', events_maxlen, '*', unpack(fields))
end

-- Statistics (no personal data): final statuses and SMS segments per département and local day.
-- Each script passes the days as its last ARGV (see stats.hpp); a script that does not counts none.
-- Counts add up in Lua tables and reach Redis once per script (flush_stats), not per message: a
-- batch of 512 outcomes of one département is then 3 calls, not 2,500.
local stats = {ttl = 0, days = {}}
local function use_stats(arg) if arg then stats = cjson.decode(arg) end end
local stat_counts, stat_index = {}, {}

-- Adds n to the counter "<channel>:<what>" of the département's day.
local function count_stat(channel, department, what, n)
  local day = stats.days[department] or stats.days['*']
  if not day or (channel ~= 'sms' and channel ~= 'email') then return end
  -- Only real département codes become keys: a rejected entry's department is arbitrary text.
  if not (string.match(department, '^%d%d$') or string.match(department, '^2[AB]$') or
          string.match(department, '^97%d$')) then department = 'unknown' end
  local index = prefix .. ':stats:' .. day
  local h = index .. ':' .. department
  local counts = stat_counts[h] or {}
  stat_counts[h] = counts
  local field = channel .. ':' .. what
  counts[field] = (counts[field] or 0) + n
  stat_index[index] = stat_index[index] or {}
  stat_index[index][department] = true
end

local function count_final(status, channel, department, segments)
  count_stat(channel, department, status, 1)
  if status == 'sent' and channel == 'sms' and tonumber(segments) then
    count_stat(channel, department, 'segments', tonumber(segments))
  end
end

-- Every script calls it before returning.
local function flush_stats()
  for h, counts in pairs(stat_counts) do
    for field, n in pairs(counts) do redis.call('HINCRBY', h, field, n) end
    redis.call('EXPIRE', h, stats.ttl)
  end
  for index, departments in pairs(stat_index) do
    for department in pairs(departments) do redis.call('SADD', index, department) end
    redis.call('EXPIRE', index, stats.ttl)
  end
  stat_counts, stat_index = {}, {}
end

-- One command for many arguments (ZREM of a batch...), in chunks: Lua's unpack has a limit.
local function call_chunked(command, key, args, step)
  step = step or 1000
  for first = 1, #args, step do
    redis.call(command, key, unpack(args, first, math.min(first + step - 1, #args)))
  end
end

local function append(list, extra)
  if extra then for i = 1, #extra do list[#list + 1] = extra[i] end end
  return list
end

-- The message fields an event reports. A script that has just read them (HMGET
-- unpack(event_fields)) passes them to set_status as `known`, which saves reading them again.
local event_fields = {'key', 'channel', 'department', 'attempts', 'provider',
                      'provider_message_id', 'segments'}

-- `status`: the status read with them, so that set_status knows whether the message is in the
-- retrying set.
local function named(values, offset, status)
  local known = {status = status}
  for i, name in ipairs(event_fields) do known[name] = values[offset + i] end
  return known
end

-- The hash's event fields once `fields` are written: `known` (read before) with `fields` over it,
-- or read back from the hash when the caller knows nothing.
local function event_view(h, fields, known)
  if not known then return named(redis.call('HMGET', h, unpack(event_fields)), 0) end
  local view = {}
  for _, name in ipairs(event_fields) do view[name] = known[name] end
  if fields then for i = 1, #fields, 2 do view[fields[i]] = fields[i + 1] end end
  return view
end

-- Sets the status (with updated_at and error) and appends the matching event, with `extra`
-- fields for this event only. Final statuses start the retention clocks: personal data goes
-- first, the status record later.
local function set_status(id, status, err, fields, extra, known)
  local h = msg_key(id)
  redis.call('HSET', h, unpack(append({'status', status, 'updated_at', now_iso, 'error', err or ''},
                                      fields)))
  local m = event_view(h, fields, known)
  emit(append({'id', id, 'key', m.key or '', 'channel', m.channel or '',
        'department', m.department or '', 'status', status,
        'attempt', tostring(m.attempts or '0'), 'provider', m.provider or '',
        'provider_message_id', m.provider_message_id or '', 'error', err or '', 'at', now_iso},
       extra))
  if status == 'retrying' then
    redis.call('SADD', prefix .. ':retrying', id)
  elseif not known or known.status == 'retrying' then
    redis.call('SREM', prefix .. ':retrying', id)
  end
  if final[status] then
    redis.call('EXPIRE', content_key(id), content_ttl)
    redis.call('EXPIRE', h, status_ttl)
    count_final(status, m.channel or '', m.department or '', m.segments)
  end
end

-- Stream entry ids ("ms-seq") in arrival order; a message remembers the last entry applied to it.
local function newer(a, b)
  if not b or b == '' then return true end
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not am or not bm then return true end
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end

local function replaceable(status)
  return status == 'scheduled' or status == 'retrying' or status == 'rejected'
end

local function pending_key(id) return prefix .. ':pending:' .. id end

-- (Re)schedules message `id` on channel `ch` from the schedule entry `op`. `known`: the message's
-- event fields read before (known.status nil: a new message); `more`, `extra`: further hash
-- fields and event fields.
local function put_scheduled(id, ch, op, known, more, extra)
  local h = msg_key(id)
  local fields = {'key', op.key, 'channel', ch, 'department', op.department,
                  'event', op.event, 'send_at', op.send_at, 'send_at_ms', op.send_at_ms,
                  'expires_at', op.expires_at, 'expires_at_ms', op.expires_at_ms,
                  'priority', op.priority or 'normal', 'intake_id', op.entry}
  if not known.status then
    append(fields, {'attempts', 0, 'provider', '', 'provider_message_id', '',
                    'created_at', now_iso})
  else
    -- A replaced message: no deferral of the old schedule, no retention clock left running.
    redis.call('HDEL', h, 'due_at', 'deferred')
    redis.call('PERSIST', h)
    unschedule(id)  -- the replacement may have another priority
  end
  redis.call('SET', content_key(id), op.content)
  redis.call('ZADD', lane_key(op.priority), op.send_at_ms, id)
  set_status(id, 'scheduled', '', append(fields, more), extra, known)
end

-- A cancel or a reschedule that came while the message was `sending` (intake: cancel_requested,
-- reschedule_requested + pending:<id>) waits for the attempt's end. When the attempt would put
-- the message back in the queue (a transient failure, a deferral, a lease that ran out), it is
-- applied instead and this returns true; the caller then does not queue the message. `fields`,
-- `extra`: what the attempt itself records (provider, outcome_unknown...); neither is modified.
local function take_over(id, cancel_requested, reschedule_requested, fields, extra, known)
  if cancel_requested then
    redis.call('DEL', pending_key(id))
    unschedule(id)
    set_status(id, 'cancelled', '', fields,
               append(append({}, extra), {'cancel_requested', cancel_requested}), known)
    return true
  end
  if not reschedule_requested then return false end
  local pending = redis.call('GET', pending_key(id))
  if not pending then return false end
  local p = cjson.decode(pending)
  redis.call('DEL', pending_key(id))
  redis.call('HDEL', msg_key(id), 'reschedule_requested')
  known = known or named(redis.call('HMGET', msg_key(id), unpack(event_fields)), 0, 'sending')
  put_scheduled(id, p.channel, p.op, known, fields,
                append(append({}, extra), {'reschedule_requested', reschedule_requested}))
  return true
end

-- The attempt ended final (sent, failed, expired): a cancel or reschedule that waited for it came
-- too late. The replacement is dropped; the final event says what came too late.
local function too_late(id, cancel_requested, reschedule_requested, extra)
  if reschedule_requested then redis.call('DEL', pending_key(id)) end
  if cancel_requested then extra = append(extra or {}, {'cancel_requested', cancel_requested}) end
  if reschedule_requested then
    extra = append(extra or {}, {'reschedule_requested', reschedule_requested})
  end
  return extra
end

-- Delivery reports move a message forward only: sent < undelivered < delivered. A report of
-- the same or a lower rank changes nothing, so a repeated or late report never undoes one; a
-- `delivered` after `undelivered` wins (the phone did get it), never the reverse.
local receipt_rank = {sent = 0, undelivered = 1, delivered = 2}

-- `text` with every occurrence of `word` (ASCII case-insensitive) replaced by '[name]'.
local function masked_word(text, word)
  local lower, needle, from = text:lower(), word:lower(), 1
  while true do
    local a, b = lower:find(needle, from, true)
    if not a then return text end
    text = text:sub(1, a - 1) .. '[name]' .. text:sub(b + 1)
    lower = lower:sub(1, a - 1) .. '[name]' .. lower:sub(b + 1)
    from = a + 6
  end
end

-- A bounce reason with the person's name masked: mail servers quote the display name
-- ("Camille Martin <c***@example.fr>: user unknown"). The adapters mask addresses and numbers;
-- the name is only known here, from the message's own content. Whole name first, then each word
-- of three letters or more.
local function without_name(id, text)
  if text == '' then return text end
  local ok, c = pcall(cjson.decode, redis.call('GET', content_key(id)) or '')
  if not ok or type(c) ~= 'table' or type(c.recipient) ~= 'table' then return text end
  local name = c.recipient.name
  if type(name) ~= 'string' or name == '' then return text end
  text = masked_word(text, name)
  for word in name:gmatch('[^%s]+') do
    if #word >= 3 then text = masked_word(text, word) end
  end
  return text
end

local function apply_receipt(id, r)
  local from = receipt_rank[redis.call('HGET', msg_key(id), 'status') or '']
  local to = receipt_rank[r.state]
  if from == nil or to == nil or to <= from then return 'ignored' end
  set_status(id, r.state, r.state == 'undelivered' and without_name(id, r.reason or '') or '',
             {'provider_status', r.provider_status or '', 'receipt_at', now_iso})
  return 'applied'
end

-- Parked reports are also listed in <prefix>:parked (key -> expiry in ms), so that recording a
-- batch as `sent` looks for them only when some exist: nearly always, none does.
local parked_key = prefix .. ':parked'

-- Keeps the stronger of two reports waiting for the same message.
local function park(key, r, ttl)
  local old = redis.call('GET', key)
  if old then
    local o = cjson.decode(old)
    if (receipt_rank[o.state] or 0) >= (receipt_rank[r.state] or 0) then return 'parked' end
  end
  redis.call('SET', key, cjson.encode({state = r.state, reason = r.reason or '',
                                       provider_status = r.provider_status or ''}), 'EX', ttl)
  redis.call('ZADD', parked_key, now_ms + ttl * 1000, key)
  return 'parked'
end

local function any_parked()
  redis.call('ZREMRANGEBYSCORE', parked_key, '-inf', now_ms)
  return redis.call('ZCARD', parked_key) > 0
end

-- At `sent`: the index from the provider's id to ours, then any report that was waiting for it
-- (`look` = any_parked() of this script).
local function index_sent(id, account, pmid, index_ttl, look)
  local waiting = {prefix .. ':receipt-id:' .. account .. ':' .. id}
  if pmid and pmid ~= '' then
    redis.call('SET', prefix .. ':pmid:' .. account .. ':' .. pmid, id, 'EX', index_ttl)
    waiting[2] = prefix .. ':receipt:' .. account .. ':' .. pmid
  end
  if not look then return end
  local parked = redis.call('MGET', unpack(waiting))
  for i = #waiting, 1, -1 do  -- by provider id first
    if parked[i] then
      redis.call('DEL', waiting[i])
      redis.call('ZREM', parked_key, waiting[i])
      apply_receipt(id, cjson.decode(parked[i]))
    end
  end
end
