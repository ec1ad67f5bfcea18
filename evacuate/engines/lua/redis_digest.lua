-- One step of a SCAN over the selected db, read-only (run with EVAL_RO, or EVAL before
-- redis 7): ARGV[1] the cursor, ARGV[2] "content" or "expiry", ARGV[3] SCAN's COUNT.
-- Returns the next cursor, then one line per key: content: the sha1 of the key, its type
-- and its value (a hash's fields and a set's members sorted, a list's and a sorted set's
-- in their order, a stream's entries), independent of how redis encodes the value;
-- expiry: the sha1 of the key and its absolute expiry time in ms (PEXPIRETIME, redis 7;
-- -1 without one). Strings are written with their length first, so that no two values
-- write the same text.
local function enc(s) return #s .. ':' .. s end
local function joined(items)
  local t = {}
  for i, v in ipairs(items) do t[i] = enc(v) end
  return table.concat(t)
end
local function pairs_of(flat)
  local t = {}
  for i = 1, #flat, 2 do t[#t + 1] = enc(flat[i]) .. enc(flat[i + 1]) end
  return t
end
local function value(key, kind)
  if kind == 'string' then return enc(redis.call('GET', key) or '') end
  if kind == 'list' then return joined(redis.call('LRANGE', key, 0, -1)) end
  if kind == 'set' then
    local members = redis.call('SMEMBERS', key)
    table.sort(members)
    return joined(members)
  end
  if kind == 'zset' then
    return table.concat(pairs_of(redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')))
  end
  if kind == 'hash' then
    local fields = pairs_of(redis.call('HGETALL', key))
    table.sort(fields)
    return table.concat(fields)
  end
  if kind == 'stream' then
    local t = {}
    for _, entry in ipairs(redis.call('XRANGE', key, '-', '+')) do
      t[#t + 1] = enc(entry[1]) .. table.concat(pairs_of(entry[2]))
    end
    return table.concat(t)
  end
  return '?'  -- a module's type: its name only
end
local reply = redis.call('SCAN', ARGV[1], 'COUNT', ARGV[3])
local out = {reply[1]}
for _, key in ipairs(reply[2]) do
  if ARGV[2] == 'expiry' then
    out[#out + 1] = redis.sha1hex(enc(key)) .. ' ' .. redis.call('PEXPIRETIME', key)
  else
    local kind = redis.call('TYPE', key)['ok']
    if kind ~= 'none' then
      out[#out + 1] = redis.sha1hex(enc(kind) .. enc(key) .. value(key, kind))
    end
  end
end
return out
