-- Applies delivery reports of one account: by the provider's message id through the index written
-- at send time, else by our id; a report that comes before its index is parked until it can be
-- applied. ARGV[7]: account; ARGV[8]: JSON array of receipts; ARGV[9]: parked TTL (s);
-- ARGV[10]: statistics. Returns each report's result.
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
  if waiting[m[1]] then
    return park(prefix .. ':receipt-id:' .. account .. ':' .. r.id, r, park_ttl)
  end
  if m[2] ~= account then return 'unknown' end
  return apply_receipt(r.id, r)
end

local results = {}
for i, r in ipairs(receipts) do results[i] = one(r) end
flush_stats()
return results
