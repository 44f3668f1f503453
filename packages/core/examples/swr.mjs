// Stale-while-revalidate: a stale value is served at once while ONE background refresh runs;
// a failed refresh keeps the stale value and goes to onError, never to the caller.
// Run: node examples/swr.mjs
import assert from 'node:assert/strict'
import { cache, InMemCache } from '@acache/core'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

let version = 0
let fail = false
let loaderCalls = 0
const errors = []
const store = new InMemCache()

// Fresh for 0.2 s, then served stale for up to 2 s more while one refresh runs.
const getPrice = cache(0.2, {
  stale: 2,
  key: 'price:{symbol}',
  name: 'price', // for error reports and metrics (default: the function's name)
  store,
  onError: (error, info) => errors.push({ message: error.message, info }),
})(async (symbol) => {
  loaderCalls++
  await sleep(100) // a slow upstream
  if (fail) throw new Error('upstream down')
  return `${symbol}@v${++version}`
})

let t = performance.now()
assert.equal(await getPrice('ACME'), 'ACME@v1')
console.log(`miss:  ACME@v1 after ${(performance.now() - t).toFixed(0)} ms (the loader ran)`)

await sleep(250) // past the TTL: the entry is stale (still inside the 2 s stale window)

t = performance.now()
const staleReads = await Promise.all([getPrice('ACME'), getPrice('ACME'), getPrice('ACME')])
const staleMs = performance.now() - t
assert.deepEqual(staleReads, ['ACME@v1', 'ACME@v1', 'ACME@v1'])
assert.ok(staleMs < 80, `stale reads must not wait for the loader (took ${staleMs} ms)`)
assert.equal(loaderCalls, 2) // three stale reads started ONE refresh
assert.equal(store.size, 1) // no lock or marker keys in the store
console.log(`stale: 3 reads returned ACME@v1 in ${staleMs.toFixed(1)} ms; one background refresh started (loader calls: ${loaderCalls})`)

await sleep(150) // the refresh finished
assert.equal(await getPrice('ACME'), 'ACME@v2')
assert.equal(loaderCalls, 2)
console.log('fresh: ACME@v2 (the refreshed value, no extra loader call)')

// --- a failed refresh keeps the stale value ------------------------------------------------
fail = true
await sleep(250) // stale again
assert.equal(await getPrice('ACME'), 'ACME@v2') // served at once, the refresh fails behind it
await sleep(150)
assert.equal(errors.length, 1)
assert.equal(errors[0].message, 'upstream down')
assert.deepEqual(errors[0].info, { cacheName: 'price', key: 'price:ACME', operation: 'refresh' })
console.log(`failed refresh: caller still got ACME@v2; onError got "${errors[0].message}" with`, errors[0].info)

// A failed refresh is retried at most once per second per key: stale reads right after it do not call the loader.
const before = loaderCalls
assert.equal(await getPrice('ACME'), 'ACME@v2')
assert.equal(loaderCalls, before)
console.log(`retry back-off: a stale read within 1 s of the failure did not call the loader (calls: ${loaderCalls})`)

fail = false
await sleep(1000)
assert.equal(await getPrice('ACME'), 'ACME@v2') // stale again, this read starts the retry
await sleep(150)
assert.equal(await getPrice('ACME'), 'ACME@v3')
console.log('after 1 s a stale read retried the refresh: ACME@v3')
console.log('\nswr.mjs: OK')
