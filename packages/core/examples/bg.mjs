// Background refresh: every call is a local read, the loader runs on a timer (unref'ed: it never
// keeps the process alive). bg.write + bg.read: one writer, many readers, through a shared store.
// Run: node examples/bg.mjs
import assert from 'node:assert/strict'
import { bg, InMemCache } from '@acache/core'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// --- bg: load at registration, then every interval -----------------------------------------
let flagLoads = 0
const loadFlags = bg(0.2, { key: 'feature_flags' })(async () => {
  flagLoads++
  return { newCheckout: flagLoads % 2 === 0, version: flagLoads }
})
assert.equal(flagLoads, 1) // runImmediately (default true): loaded at registration
const flags = await loadFlags() // a local read
assert.equal(flags.version, 1)
console.log('bg(0.2 s): loaded at registration ->', flags)

await sleep(450) // ticks at ~0.2 s and ~0.4 s
assert.ok(flagLoads >= 3, `expected at least 3 loads, got ${flagLoads}`)
const reads = await Promise.all(Array.from({ length: 1000 }, () => loadFlags()))
assert.equal(new Set(reads).size, 1) // 1000 reads, no loader call
console.log(`after 450 ms: ${flagLoads} loads (registration + ticks); 1000 reads -> version ${reads[0].version}, no extra load`)

// --- runImmediately: false: the first tick comes one interval after registration -----------
let lazyLoads = 0
const lazy = bg(0.2, { key: 'lazy', runImmediately: false })(() => ++lazyLoads)
assert.equal(lazyLoads, 0)
assert.equal(lazy(), 1) // on a local miss the getter runs (or joins) the loader itself
console.log('runImmediately: false -> nothing loaded at registration; the first call loaded it:', lazyLoads)

// --- a store already holding a fresh value: no load at registration ------------------------
const warm = new InMemCache()
warm.set('rates', { usd: 1 }, 60) // e.g. another process already wrote it to Redis
let rateLoads = 0
const rates = bg(0.2, { key: 'rates', store: warm })(async () => ({ usd: 1 + ++rateLoads / 100 }))
assert.equal(rateLoads, 0)
assert.deepEqual(await rates(), { usd: 1 })
console.log('a warm store: no load at registration; value from the store:', await rates())

// --- failures are reported (onError); the last good value stays until its ttl ---------------
// (ttl defaults to 2 × interval; after it, a call on the local miss runs the loader and gets its error)
let tickErrors = 0
let boom = false
const fragile = bg(0.1, { key: 'fragile', ttl: 5, onError: () => tickErrors++ })(async () => {
  if (boom) throw new Error('config server down')
  return 'good'
})
await sleep(10)
boom = true
await sleep(250)
assert.ok(tickErrors >= 1)
assert.equal(await fragile(), 'good')
console.log(`failed ticks: ${tickErrors} reported to onError; the getter still returns "good"`)

// --- bg.write / bg.read through a shared store ----------------------------------------------
const shared = new InMemCache() // in production: a RedisCache shared by every process
let forexCalls = 0
bg.write(0.2, { key: 'exchange_rates', store: shared })(async () => ({ eur: 0.9, call: ++forexCalls }))
assert.throws(() => bg.write(0.2, { key: 'exchange_rates' })(async () => ({})), /"exchange_rates" already has a writer/)

// A reader keeps a private in-memory mirror, synced from the store every interval.
const getRates = bg.read('exchange_rates', { interval: 0.1, store: shared })
// With no store, a reader finds the same-process writer's store; interval 0 (default) pulls on a local miss.
const getRatesHere = bg.read('exchange_rates')
await sleep(150)
assert.equal(getRates().eur, 0.9)
assert.equal(getRatesHere().eur, 0.9)
console.log('bg.read mirrors of the writer\'s key:', getRates(), getRatesHere())

// --- bg.shutdown(): stops every timer, forgets writer registrations; idempotent -------------
await bg.shutdown()
await bg.shutdown()
const loadsAtShutdown = flagLoads
await sleep(300)
assert.equal(flagLoads, loadsAtShutdown)
assert.doesNotThrow(() => bg.write(1, { key: 'exchange_rates', store: shared })(async () => ({})))
await bg.shutdown()
console.log(`bg.shutdown(): no more loads (${flagLoads} in total); the key can be registered again`)
console.log('\nbg.mjs: OK')
