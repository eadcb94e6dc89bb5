-- GCRA slots of one provider account, shared by every daemon instance (rate_limiter.hpp).
-- KEYS[1]: the account's key; ARGV: interval (µs), horizon (µs), slots wanted.
-- Returns {granted, first slot offset (µs), ask again after (µs)}, offsets from Redis' TIME.
-- tat: the theoretical arrival time (µs, Redis clock) of the next free slot. Numbers are doubles
-- in Lua: µs since the epoch (~2^51) are still exact.
local interval = tonumber(ARGV[1])
local horizon = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local granted = math.floor((now + horizon - tat) / interval) + 1
if granted < 0 then granted = 0 end
if granted > wanted then granted = wanted end
local next_tat = tat + granted * interval
if granted > 0 then
  redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX',
             math.floor((next_tat - now) / 1000) + 1000)
end
return {granted, tat - now, math.max(0, next_tat - horizon - now)}
