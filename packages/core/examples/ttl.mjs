// TTL caching and cache keys: key templates ({id}, {0}, {}, {user.id}, {{literal}}), key functions
// and the default key.  Run: node examples/ttl.mjs
import assert from 'node:assert/strict'
import { cache, InMemCache, KeyTemplateError } from '@acache/core'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// --- TTL -----------------------------------------------------------------------------------
let dbCalls = 0
const store = new InMemCache()
const getUser = cache(0.3, { key: 'user:{id}', store })(async (id) => {
  dbCalls++
  return { id, name: `user ${id}` }
})

const first = await getUser(42) // miss: calls the function
const again = await getUser(42) // hit: same object, no call
assert.equal(dbCalls, 1)
assert.equal(again, first) // InMemCache stores references
assert.equal(store.get('user:42'), first) // the key came from the template
console.log(`TTL: 2 calls of getUser(42) -> ${dbCalls} loader call; stored under "user:42"`)

await sleep(350) // past the 0.3 s TTL (no stale window): the entry is dead
await getUser(42)
assert.equal(dbCalls, 2)
console.log(`TTL: after 350 ms the entry expired -> loader calls: ${dbCalls}`)

// Durations are seconds (floats allowed) or strings.
cache('250ms')(async () => 1)
cache('5m')(async () => 1)
assert.throws(() => cache('5 parsecs'), TypeError)

// ttl <= 0 bypasses the cache: always called, nothing stored.
let bypassCalls = 0
const bypass = cache(0)(async () => ++bypassCalls)
await bypass()
await bypass()
assert.equal(bypassCalls, 2)
console.log('TTL: ttl 0 bypasses the cache (2 calls -> 2 loader calls)')

// --- key templates ---------------------------------------------------------------------------
// .key(...args) shows the key a call maps to (without calling anything).
const byName = cache(60, { key: 'user:{id}' })(async (id) => id)
const byIndex = cache(60, { key: 'order:{0}:{1}' })(async (customer, orderId) => orderId)
const auto = cache(60, { key: 'pair:{}:{}' })(async (a, b) => a + b)
const byPath = cache(60, { key: 'user:{user.id}:{user.org.name}' })(async (user) => user)
const byProp = cache(60, { key: 'search:{q}:{page}' })(async (params) => params) // properties of one object argument
const withDefault = cache(60, { key: 'feed:{userId}:{region}' })(async (userId, region = 'eu') => userId + region)
const literal = cache(60, { key: '{{static}}:{id}' })(async (id) => id)
const byFn = cache(60, { key: (a, b) => `sum:${a + b}` })(async (a, b) => a + b)
const fixed = cache(60, { key: 'exchange_rates' })(async () => ({ usd: 1 }))

const examples = [
  ["'user:{id}'", byName.key(42), 'user:42'],
  ["'order:{0}:{1}'", byIndex.key('acme', 7), 'order:acme:7'],
  ["'pair:{}:{}'", auto.key(1, 2), 'pair:1:2'],
  ["'user:{user.id}:{user.org.name}'", byPath.key({ id: 5, org: { name: 'acme' } }), 'user:5:acme'],
  ["'search:{q}:{page}'", byProp.key({ q: 'cats', page: 2 }), 'search:cats:2'],
  ["'feed:{userId}:{region}' (default)", withDefault.key(9), 'feed:9:eu'],
  ["'{{static}}:{id}'", literal.key(3), '{static}:3'],
  ['(a, b) => `sum:${a + b}`', byFn.key(1, 2), 'sum:3'],
  ["'exchange_rates' (static)", fixed.key(), 'exchange_rates'],
]
console.log('\nkey templates:')
for (const [template, got, expected] of examples) {
  assert.equal(got, expected)
  console.log(`  ${template.padEnd(36)} -> ${got}`)
}
assert.equal(byFn.key(2, 1), 'sum:3') // a key function may map different calls to one key

// --- the default key: name(canonical encoding of all arguments) ------------------------------
const search = cache(60)(async function search(q, opts) {
  return [q, opts]
})
const k1 = search.key('bob', { limit: 10, active: true })
const k2 = search.key('bob', { active: true, limit: 10 }) // object keys are sorted
assert.equal(k1, 'search("bob",{"active":true,"limit":10})')
assert.equal(k1, k2)
assert.equal(search.key('bob', undefined), search.key('bob')) // trailing undefined dropped
assert.equal(search.key(new Date(0)), 'search("1970-01-01T00:00:00.000Z")')
assert.equal(search.key(new Map([['b', 1], ['a', 2]])), 'search(Map{"b":1,"a":2})') // Map order kept
assert.equal(search.key(new Set([2, 1])), 'search(Set[2,1])')
console.log('\ndefault keys:')
for (const k of [k1, search.key(new Date(0)), search.key(new Map([['b', 1], ['a', 2]])), search.key()]) console.log(`  ${k}`)

// An argument that cannot be encoded throws, naming it.
assert.throws(() => search.key('x', { onDone: () => {} }), /argument 1 \(opts\.onDone\) is a function/)

// --- KeyTemplateError: at decoration time when it can be known, else at call time ------------
assert.throws(() => cache(60, { key: 'user:{nope}' })(async (id, region) => id), KeyTemplateError)
assert.throws(() => cache(60, { key: 'user:{2}' })(async (id) => id), KeyTemplateError)
assert.throws(() => cache(60, { key: 'user:{id' })(async (id) => id), KeyTemplateError)
const late = cache(60, { key: 'user:{user.id}' })(async (user) => user)
assert.throws(() => late.key({ name: 'no id' }), /user\.id is undefined/)
await assert.rejects(async () => late({ name: 'no id' }), KeyTemplateError)
console.log('\nKeyTemplateError: unknown names / bad indexes / unbalanced braces at decoration time; a missing value at call time')
console.log('\nttl.mjs: OK')
