// Metrics: InMemoryMetrics (getStats after some traffic), InstrumentedStorage (metrics for any
// store), NULL_METRICS (the default: costs nothing).  Run: node examples/metrics.mjs
import assert from 'node:assert/strict'
import { cache, InMemCache, InMemoryMetrics, InstrumentedStorage, NULL_METRICS } from '@acache/core'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const metrics = new InMemoryMetrics()

// --- engine metrics: hits, misses, sets, deletes, load latency, background refreshes, errors ----
let fail = false
const getUser = cache(0.1, { stale: 5, metrics, name: 'users', onError: () => {} })(async (id) => {
  await sleep(5)
  if (fail) throw new Error('db down')
  return { id }
})

for (const id of [1, 1, 1, 2, 2, 3]) await getUser(id) // 3 misses, 3 hits
await getUser.invalidate(3) // 1 delete
await sleep(120) // entries 1 and 2 go stale
await getUser(1) // stale hit + background refresh (succeeds)
await sleep(20)
fail = true
await getUser(2) // stale hit + background refresh (fails, reported to onError and metrics)
await sleep(20)

const stats = metrics.getStats()
console.log('metrics.getStats().caches.users ->', stats.caches.users)
console.log("metrics.getStats().latency['users.load'] ->", stats.latency['users.load'])
console.log('metrics.getStats().backgroundRefresh.users ->', stats.backgroundRefresh.users)
console.log('metrics.getStats().errors ->', stats.errors)
console.log('metrics.getStats().memory.users ->', stats.memory.users)
assert.deepEqual(stats.caches.users, { hits: 5, misses: 3, sets: 4, deletes: 1, hitRatePercent: 62.5, staleHits: 2 })
assert.equal(stats.latency['users.load'].count, 4) // 3 misses + 1 successful refresh (failed loads count as errors)
assert.ok(stats.latency['users.load'].p50Ms > 0)
assert.deepEqual(stats.backgroundRefresh.users, { success: 1, failure: 1 })
assert.deepEqual(stats.errors, { 'users.load': { Error: 1 } }) // by error class name, never by key
assert.equal(stats.memory.users.entries, 1) // reported on the first write, then every 128 writes
assert.ok(stats.uptimeSeconds > 0)

// --- InstrumentedStorage: metrics for any store (here an InMemCache) ----------------------------
const storeMetrics = new InMemoryMetrics()
const store = new InstrumentedStorage(new InMemCache(), storeMetrics, 'sessions')
store.set('s:1', { user: 1 }, 60) // a synchronous store stays synchronous
store.get('s:1')
store.get('s:2')
store.getMany(['s:1', 's:3'])
store.delete('s:1')
assert.equal(store.cleanupExpired(), 0) // other methods of the inner store are forwarded
const s = storeMetrics.getStats()
console.log('\nInstrumentedStorage(new InMemCache(), metrics, "sessions") ->', s.caches.sessions)
console.log('  operations timed:', Object.keys(s.latency).join(', '))
assert.deepEqual(s.caches.sessions, { hits: 2, misses: 2, sets: 1, deletes: 1, hitRatePercent: 50, staleHits: 0 })
assert.deepEqual(Object.keys(s.latency).sort(), ['sessions.delete', 'sessions.get', 'sessions.getMany', 'sessions.set'])

// --- NULL_METRICS: the default; the engine skips instrumentation entirely ------------------------
const plain = cache(60, { metrics: NULL_METRICS })((x) => x * 2)
assert.equal(plain(21), 42)
assert.equal(NULL_METRICS.recordHit('x'), undefined)
assert.ok(Object.isFrozen(NULL_METRICS))
console.log('\nNULL_METRICS: a frozen no-op collector; the engine checks for it and records nothing')

// A hand-written collector: any object with the eight record* methods.
const seen = []
const custom = {
  recordHit: (name, stale) => seen.push(`hit ${name}${stale ? ' (stale)' : ''}`),
  recordMiss: (name) => seen.push(`miss ${name}`),
  recordSet: (name) => seen.push(`set ${name}`),
  recordDelete: (name) => seen.push(`delete ${name}`),
  recordLatency: () => {},
  recordError: (name, op, type) => seen.push(`error ${name}.${op} ${type}`),
  recordMemoryUsage: () => {},
  recordBackgroundRefresh: (name, ok) => seen.push(`refresh ${name} ${ok ? 'ok' : 'failed'}`),
}
const f = cache(60, { metrics: custom, name: 'f' })((x) => x)
f(1)
f(1)
assert.deepEqual(seen, ['miss f', 'set f', 'hit f'])
console.log('a custom MetricsCollector saw:', seen)
console.log('\nmetrics.mjs: OK')
