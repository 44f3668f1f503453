// Lua run with EVAL (not EVALSHA): always works after a server restart or failover, and these
// scripts run only for locks and deduplicated writes.

/** KEYS[1] lock, ARGV[1] token, ARGV[2] ms: reset the TTL to exactly ARGV[2], only for our own token. */
export const RENEW_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`

/** KEYS[1] lock, ARGV[1] token: delete only our own lock. */
export const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/**
 * KEYS[1] entry, ARGV[1] encoded entry, ARGV[2] physical TTL in ms ('0' = none).
 * When the stored value bytes (after the 16-byte header) equal the new ones, only the header
 * (timestamps) and the TTL are written — the value is not rewritten (nor replicated). Returns 1
 * when the whole entry was written, 0 when deduplicated.
 */
export const DEDUPE_SET = `
local current = redis.call('GET', KEYS[1])
local new = ARGV[1]
if current and #current == #new and #new >= 16 and string.sub(current, 17) == string.sub(new, 17) then
  redis.call('SETRANGE', KEYS[1], 0, string.sub(new, 1, 16))
  if ARGV[2] == '0' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return 0
end
if ARGV[2] == '0' then redis.call('SET', KEYS[1], new) else redis.call('SET', KEYS[1], new, 'PX', ARGV[2]) end
return 1`
