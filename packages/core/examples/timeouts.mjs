// Loader timeouts: a hard timeout rejects with TimeoutError and aborts the loader's signal
// (cache.signal()); a soft timeout serves the last value while the loader finishes in the background.
// Run: node examples/timeouts.mjs
import assert from 'node:assert/strict'
import { cache, TimeoutError } from '@acache/core'

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true })
  })

// Hard: 100 ms. The loader passes cache.signal() to its I/O (fetch takes { signal } the same way).
let aborted = false
const slowUser = cache(60, { key: 'user:{id}', timeout: { hard: 0.1 } })(async (id) => {
  const signal = cache.signal()
  signal.addEventListener('abort', () => (aborted = true))
  await sleep(1000, signal)
  return { id }
})
await assert.rejects(slowUser(1), TimeoutError)
assert.equal(aborted, true)
console.log('hard timeout: TimeoutError after 100 ms, loader signal aborted')

// Soft: 50 ms, with the last value kept 60 s past its TTL by staleIfError.
let version = 0
let delay = 0
const getPrice = cache(0.1, { key: 'price', timeout: { soft: 0.05 }, staleIfError: 60 })(async () => {
  await sleep(delay)
  return ++version
})
assert.equal(await getPrice(), 1)
await sleep(150) // dead
delay = 200 // the upstream got slow
const t = performance.now()
assert.equal(await getPrice(), 1) // the last value, after ~50 ms
const waited = performance.now() - t
assert.ok(waited < 150, `soft timeout answered in ${waited} ms`)
console.log(`soft timeout: served the last value (1) after ${waited.toFixed(0)} ms`)
await sleep(250) // the background load landed
assert.equal(await getPrice(), 2)
console.log('the loader finished in the background: now 2')
console.log('\ntimeouts.mjs: OK')
