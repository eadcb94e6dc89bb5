-- An account's credit, as an answer or a credit call told it: kept in <prefix>:account:<account>
-- for `rappel status --providers`, and checked against low_credit (ARGV[9], empty when the account
-- has none). One event per crossing for every daemon instance together:
-- <prefix>:credit-low:<account> is set at the first one and removed when the credit is back, so
-- a restart or another instance seeing the same low credit says nothing more.
-- ARGV[7]: account; ARGV[8]: credits; ARGV[9]: low_credit or ''.
-- Returns 1 when this call added the event, 2 when it re-armed it (the credit is back), else 0.
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
