// The stores: InMemCache (bounded by entries or bytes, SIEVE eviction), HybridCache (L1 + L2),
// ChainCache (any number of tiers), store given as an instance / class / factory, and
// validateCacheStorage.  Run: node examples/stores.mjs
import assert from 'node:assert/strict'
import { cache, ChainCache, HybridCache, InMemCache, validateCacheStorage } from '@acache/core'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Wraps a store so that every method answers with a promise, like a remote store (Redis, S3…). */
function remote(inner = new InMemCache()) {
  const out = { inner }
  for (const m of ['get', 'set', 'delete', 'exists', 'getEntry', 'setEntry', 'setIfNotExists', 'getMany', 'setMany', 'clear']) {
    out[m] = async (...args) => inner[m](...args)
  }
  return out
}

// --- InMemCache: maxSize, SIEVE eviction ------------------------------------------------------
const lru = new InMemCache({ maxSize: 3 })
lru.set('a', 1, 60)
lru.set('b', 2, 60)
lru.set('c', 3, 60)
lru.get('a') // a read only sets a "visited" flag (no reordering)
lru.set('d', 4, 60) // full: the hand skips (and clears) visited 'a', evicts unvisited 'b'
assert.deepEqual([...lru.getMany(['a', 'b', 'c', 'd']).keys()], ['a', 'c', 'd'])
console.log('InMemCache({ maxSize: 3 }): set a,b,c; read a; set d -> kept', [...lru.getMany(['a', 'b', 'c', 'd']).keys()], '(b evicted)')

// --- maxBytes and memoryUsage() ----------------------------------------------------------------
const bounded = new InMemCache({ maxBytes: 10_000 })
for (let i = 0; i < 100; i++) bounded.set(`row:${i}`, 'x'.repeat(200), 60)
const usage = bounded.memoryUsage()
assert.ok(usage.bytes <= 10_000)
assert.ok(usage.entries < 100)
console.log('InMemCache({ maxBytes: 10_000 }) after 100 × 200-char strings ->', usage)

// --- stored by reference, not copied -----------------------------------------------------------
const refs = new InMemCache()
const user = { name: 'Ada' }
refs.set('user:1', user, 60)
assert.equal(refs.get('user:1'), user) // the same object: do not mutate what you get from the cache

// --- expiry and cleanupExpired() -----------------------------------------------------------------
const short = new InMemCache()
short.set('tmp:1', 'x', 0.05)
short.set('tmp:2', 'y', 0.05)
short.set('keep', 'z', 0) // ttl 0 = no expiry
await sleep(80)
assert.equal(short.size, 3) // expired entries stay until read, swept or cleaned up
assert.equal(short.cleanupExpired(), 2)
assert.equal(short.size, 1)
console.log('cleanupExpired() removed 2 expired entries; ttl 0 = no expiry kept "keep"')

// --- HybridCache: L1 memory in front of a shared L2 --------------------------------------------
const l2 = remote() // stands in for a RedisCache
const hybrid = new HybridCache({ l1Cache: new InMemCache({ maxSize: 1000 }), l1Ttl: 30, l2Cache: l2 })
assert.equal(hybrid.l2Ttl, 60) // default: 2 × l1Ttl, for writes without expiry
await hybrid.set('user:1', { name: 'Ada' }, 300) // written to L2 first, then L1 (L1 for min(300, 30) s)
assert.deepEqual(hybrid.get('user:1'), { name: 'Ada' }) // an L1 hit answers synchronously
hybrid.l1.delete('user:1') // e.g. this process just restarted
const fromL2 = hybrid.get('user:1') // L1 miss: a promise, from L2, then promoted into L1
assert.ok(fromL2 instanceof Promise)
assert.deepEqual(await fromL2, { name: 'Ada' })
assert.ok(hybrid.l1.exists('user:1'))
console.log('HybridCache: L1 hit is synchronous; an L1 miss reads L2 (a promise) and promotes into L1')

// With cache(): the usual setup for a fleet of processes sharing Redis.
let dbCalls = 0
const getUser = cache(300, { key: 'user:{id}', store: hybrid })(async (id) => ({ id, n: ++dbCalls }))
await getUser(2)
await getUser(2)
assert.equal(dbCalls, 1)

// --- ChainCache: any number of tiers, per-level TTL caps ----------------------------------------
const mem = new InMemCache()
const redisLike = remote()
const s3Like = remote()
const chain = ChainCache.build(mem, redisLike, s3Like, { ttls: [60, '1h', undefined] })
await chain.set('report:2024', { total: 42 }, 86_400) // memory ≤ 60 s, redis ≤ 1 h, s3 = 1 day
const inMem = mem.getEntry('report:2024')
const inS3 = await s3Like.getEntry('report:2024')
assert.equal(inMem.freshUntil, inS3.freshUntil) // every level gets the same timestamps
console.log('ChainCache.build(mem, redis, s3, { ttls: [60, "1h", undefined] }): one write, three levels, same freshUntil')

// Read-through with promotion: the entry keeps its original createdAt/freshUntil.
mem.clear()
await redisLike.delete('report:2024')
const found = await chain.getEntry('report:2024') // found in s3, promoted into redis and memory
assert.equal(found.createdAt, inS3.createdAt)
assert.equal(mem.getEntry('report:2024').createdAt, inS3.createdAt)
assert.ok(await redisLike.exists('report:2024'))
console.log('read-through: an s3 hit is promoted into redis and memory with its original timestamps')

// setIfNotExists is decided by the deepest level.
await s3Like.set('lock:job', 'another-process', 30)
assert.equal(await chain.setIfNotExists('lock:job', 'me', 30), false)
assert.equal(mem.exists('lock:job'), false)
console.log('setIfNotExists: refused because the deepest level already holds the key')

// --- store as an instance, a class (constructed once) or a factory (called once) ----------------
const byClass = cache(60, { store: InMemCache, name: 'byClass' })(async () => 1)
let made = 0
const byFactory = cache(60, { store: () => (made++, new InMemCache({ maxSize: 100 })), name: 'byFactory' })(async () => 2)
await byFactory()
await byFactory()
assert.ok(byClass.store instanceof InMemCache)
assert.equal(made, 1)
assert.equal(byFactory.store.maxSize, 100)
console.log('store: InMemCache (a class) and () => new InMemCache(...) (a factory) both work; the factory ran once')

// --- validateCacheStorage: a shape check ---------------------------------------------------------
assert.equal(validateCacheStorage(new InMemCache()), true)
assert.equal(validateCacheStorage(hybrid), true)
assert.equal(validateCacheStorage(remote()), true)
assert.equal(validateCacheStorage({ get() {}, set() {} }), false)
assert.throws(() => cache(60, { store: { get() {} } })(async () => 1), /option "store" must be a CacheStorage/)
console.log('validateCacheStorage: true for InMemCache / HybridCache / a full duck-typed store, false for { get, set }')
console.log('\nstores.mjs: OK')
