-- Reads the next inbox entries for the intake, one XREADGROUP of one entry at a time, up to a
-- count and a number of bytes: a plain XREADGROUP COUNT n returns n whole entries, and n entries
-- of 16 MiB are gigabytes in the daemon. An oversized entry comes back as its sizes only, so the
-- daemon rejects it without ever holding it. Returns XREADGROUP's entries ([id, fields], [id, nil]
-- for one deleted while pending) and [id, [], payload_bytes, entry_bytes] for an oversized one.
-- Without the prelude: it changes no message.
-- KEYS[1]: inbox; ARGV: group, consumer, cursor ('0' or '>'), count, bytes, max payload bytes,
-- max entry bytes.
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
