// See store_scripts.hpp. The scripts share one prelude (key names, events, status changes); each
// is sent with EVALSHA, so the text travels once per Redis start.
//
// Layout under <prefix>:
//   msg:<id>      hash: the message's state (no personal data)
//   content:<id>  string: recipient and template data (personal data, short retention)
//   pending:<id>  string: a reschedule that came while the message was sending (the intake entry,
//                 personal data included), applied or dropped when that attempt ends
//   schedule      zset id -> due time (ms): scheduled and retrying messages of normal priority
//   schedule:high, schedule:bulk  the same for the other priorities (priority.hpp); a message
//                 is in exactly one of the three, named by its hash's `priority` (absent: normal)
//   inflight      zset id -> lease deadline (ms): messages handed to a daemon
//   retrying      set of ids: the messages whose status is retrying (for the queue metrics)
//   stats:<day>   set of the départements counted that day; stats:<day>:<dept> hash of counters
//   inbox, events streams of the public contract
//   pmid:<account>:<provider message id>     string: our message id (receipt index, TTL)
//   receipt:<account>:<provider message id>  string: a report that came before its index (TTL)
//   receipt-id:<account>:<message id>        string: same, for reports that name our id
//   credit-low:<account>  string: the credit that was reported low, until it is back (kCredit)
//   account:<account>     hash: the account's last known credit and each instance's circuit,
//                         for `rappel status --providers` (kCredit, Store::record_circuit)
#include "daemon/store_scripts.hpp"

#include <string>

namespace rappel::scripts {
namespace {

constexpr const char* kPrelude = R"LUA(
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
)LUA";

constexpr const char* kIntake = R"LUA(
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
      -- A tombstone, so that an older schedule entry applied later (by another instance) is ignored.
      redis.call('HSET', h, 'key', op.key, 'channel', ch, 'status', 'cancelled', 'tombstone', '1',
                 'intake_id', op.entry, 'updated_at', now_iso)
      redis.call('EXPIRE', h, status_ttl)
    elseif not newer(op.entry, cur[2]) then
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
)LUA";

// Reads the next inbox entries for the intake, one XREADGROUP of one entry at a time, up to a
// count and a number of bytes: a plain XREADGROUP COUNT n returns n whole entries, and n entries
// of 16 MiB are gigabytes in the daemon. An oversized entry comes back as its sizes only, so the
// daemon rejects it without ever holding it. Returns XREADGROUP's entries ([id, fields], [id, nil]
// for one deleted while pending) and [id, [], payload_bytes, entry_bytes] for an oversized one.
// Without the prelude: it changes no message.
constexpr const char* kReadInbox = R"LUA(
local inbox, group, consumer, cursor = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local count, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local max_payload, max_entry = tonumber(ARGV[6]), tonumber(ARGV[7])
local out, bytes = {}, 0
while #out < count and bytes < budget do
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1, 'STREAMS', inbox,
                       cursor)
  local e = r and r[1][2][1]
  if not e then break end
  -- '0': our pending entries, walked by id; '>': each call delivers the next new one.
  if cursor ~= '>' then cursor = e[1] end
  local kv = e[2]
  if not kv then
    out[#out + 1] = {e[1], false}
  else
    local size, payload = 0, 0
    for i = 1, #kv, 2 do
      size = size + #kv[i] + #kv[i + 1]
      if kv[i] == 'payload' then payload = #kv[i + 1] end
    end
    -- Counted at its real size, so that a run of oversized entries also ends the read.
    bytes = bytes + size
    if payload > max_payload or size > max_entry then
      out[#out + 1] = {e[1], {}, tostring(payload), tostring(size)}
    else
      out[#out + 1] = e
    end
  end
end
return out
)LUA";

constexpr const char* kClaim = R"LUA(
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
)LUA";

constexpr const char* kComplete = R"LUA(
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
      if c.provider and c.provider ~= '' then redis.call('HSETNX', h, 'pinned_provider', c.provider) end
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
)LUA";

constexpr const char* kReceipts = R"LUA(
local account = ARGV[7]
local receipts = cjson.decode(ARGV[8])
local park_ttl = tonumber(ARGV[9])
use_stats(ARGV[10])
local waiting = {scheduled = true, sending = true, retrying = true}

-- By the provider's id through the index, else by our id (checked to belong to this account).
local function one(r)
  if r.pmid and r.pmid ~= '' then
    local id = redis.call('GET', prefix .. ':pmid:' .. account .. ':' .. r.pmid)
    if not id then return park(prefix .. ':receipt:' .. account .. ':' .. r.pmid, r, park_ttl) end
    return apply_receipt(id, r)
  end
  local m = redis.call('HMGET', msg_key(r.id), 'status', 'provider')
  if not m[1] then return 'unknown' end
  if waiting[m[1]] then return park(prefix .. ':receipt-id:' .. account .. ':' .. r.id, r, park_ttl) end
  if m[2] ~= account then return 'unknown' end
  return apply_receipt(r.id, r)
end

local results = {}
for i, r in ipairs(receipts) do results[i] = one(r) end
flush_stats()
return results
)LUA";

// An account's credit, as an answer or a credit call told it: kept in <prefix>:account:<account>
// for `rappel status --providers`, and checked against low_credit (ARGV[9], empty when the account
// has none). One event per crossing for every daemon instance together:
// <prefix>:credit-low:<account> is set at the first one and removed when the credit is back, so
// a restart or another instance seeing the same low credit says nothing more.
// Returns 1 when this call added the event, 2 when it re-armed it (the credit is back), else 0.
constexpr const char* kCredit = R"LUA(
local account = ARGV[7]
local credits = ARGV[8]
local low = ARGV[9]
redis.call('HSET', prefix .. ':account:' .. account, 'credits', credits, 'credits_at', now_iso)
if low == '' then return 0 end
local key = prefix .. ':credit-low:' .. account
if tonumber(credits) >= tonumber(low) then
  return redis.call('DEL', key) == 1 and 2 or 0
end
if not redis.call('SET', key, credits, 'NX') then return 0 end
emit({'id', '', 'key', '', 'channel', '', 'department', '', 'status', 'provider_low_credit',
      'attempt', '0', 'provider', account, 'provider_message_id', '',
      'error', 'credit ' .. credits .. ' below low_credit ' .. low, 'at', now_iso,
      'credits', credits})
return 1
)LUA";

}  // namespace

const LuaScript& credit() {
  static const LuaScript script(std::string(kPrelude) + kCredit);
  return script;
}
const LuaScript& intake() {
  static const LuaScript script(std::string(kPrelude) + kIntake);
  return script;
}
const LuaScript& read_inbox() {
  static const LuaScript script(kReadInbox);
  return script;
}
const LuaScript& claim() {
  static const LuaScript script(std::string(kPrelude) + kClaim);
  return script;
}
const LuaScript& complete() {
  static const LuaScript script(std::string(kPrelude) + kComplete);
  return script;
}
const LuaScript& receipts() {
  static const LuaScript script(std::string(kPrelude) + kReceipts);
  return script;
}

}  // namespace rappel::scripts
