/**
 * The Lua behind `CounterStore.claim` / `unclaim`: every limit of the policy checked and counted
 * in ONE script, so two replicas (or two workers of one) that both decided `act` cannot both
 * start when only one run is allowed. Redis runs a script to completion before any other command.
 *
 * Two clocks, on purpose: cooldowns and rate windows are on vigil's clock (ARGV `at`), the time
 * the audit log records, so they can be rebuilt from it; `max_concurrent` slot leases are on the
 * Redis clock (`TIME`), so a replica whose clock is minutes off cannot see a live lease as expired.
 */

/**
 * KEYS: 1 cooldown<kt>, 2 runs<kt>, 3 runs<kind>, 4 failures<kt>, 5 breaker<kt>, 6 running<kind>,
 *       7 claims<kt> (run id → previous last-run time, for a give-back).
 * ARGV: 1 at, 2 run id, 3 cooldown ms, 4 max/hour target, 5 max/day target, 6 max/hour kind,
 *       7 max/day kind, 8 max_concurrent, 9 max_consecutive_failures, 10 lease ms, 11 memory ms,
 *       12 runs ttl ms, 13 window ms (a day).
 * Returns {status, lastRunAt, hourTarget, dayTarget, hourKind, dayKind, failures, breakerUntil, running}
 * where status is 1 claimed, 2 claimed again (the same run id: a retried or re-delivered job),
 * 0 refused by a limit (the caller renders which from the counters), 3 busy (every slot taken).
 */
export const CLAIM = `
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = tonumber(ARGV[1])
local run = ARGV[2]
local hour, day = 3600000, tonumber(ARGV[13])
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', clock)
local again = redis.call('ZSCORE', KEYS[2], run) ~= false
local last = tonumber(redis.call('GET', KEYS[1]) or '')
local ht = redis.call('ZCOUNT', KEYS[2], '(' .. (at - hour), '+inf')
local dt = redis.call('ZCOUNT', KEYS[2], '(' .. (at - day), '+inf')
local hk = redis.call('ZCOUNT', KEYS[3], '(' .. (at - hour), '+inf')
local dk = redis.call('ZCOUNT', KEYS[3], '(' .. (at - day), '+inf')
local failures = tonumber(redis.call('GET', KEYS[4]) or '0') or 0
local breaker = tonumber(redis.call('GET', KEYS[5]) or '')
local running = redis.call('ZCARD', KEYS[6])
local function reply(status)
  return {status, last and tostring(last) or false, ht, dt, hk, dk, failures, breaker and tostring(breaker) or false, running}
end
if not again then
  if last and at < last + tonumber(ARGV[3]) then return reply(0) end
  if ht >= tonumber(ARGV[4]) or dt >= tonumber(ARGV[5]) then return reply(0) end
  if hk >= tonumber(ARGV[6]) or dk >= tonumber(ARGV[7]) then return reply(0) end
  if breaker and at < breaker then return reply(0) end
  if failures >= tonumber(ARGV[9]) then return reply(0) end
end
if not redis.call('ZSCORE', KEYS[6], run) then
  if running >= tonumber(ARGV[8]) then return reply(3) end
  local lease = tonumber(ARGV[10])
  redis.call('ZADD', KEYS[6], clock + lease, run)
  if redis.call('PTTL', KEYS[6]) < lease then redis.call('PEXPIRE', KEYS[6], lease) end
end
if again then return reply(2) end
redis.call('HSET', KEYS[7], run, last and tostring(last) or '')
redis.call('PEXPIRE', KEYS[7], ARGV[11])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[11])
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], at, run)
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', at - day)
  redis.call('PEXPIRE', KEYS[i], ARGV[12])
end
return reply(1)
`;

/**
 * Gives back the claim of a run that did not touch the platform: its counts and, when it is still
 * the last run, the cooldown it set (the previous last-run time comes back). A run whose claim was
 * committed (`COMMIT`: its platform call may have been sent) keeps its counts; either way its slot
 * is freed. KEYS: cooldown<kt>, runs<kt>, runs<kind>, running<kind>, claims<kt>. ARGV: run id,
 * memory ms. Returns 1 when counts were given back.
 */
export const UNCLAIM = `
local run = ARGV[1]
redis.call('ZREM', KEYS[4], run)
local previous = redis.call('HGET', KEYS[5], run)
if not previous then return 0 end
local at = tonumber(redis.call('ZSCORE', KEYS[2], run) or '')
redis.call('HDEL', KEYS[5], run)
redis.call('ZREM', KEYS[2], run)
redis.call('ZREM', KEYS[3], run)
local last = tonumber(redis.call('GET', KEYS[1]) or '')
if at and last and last == at then
  if previous == '' then redis.call('DEL', KEYS[1])
  else redis.call('SET', KEYS[1], previous, 'PX', ARGV[2]) end
end
return 1
`;
