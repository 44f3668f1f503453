// Single-flight: concurrent misses of one key run the function once; every caller gets the same
// result, or the same error. Errors are never cached.  Run: node examples/single-flight.mjs
import assert from 'node:assert/strict'
import { cache } from '@acache/core'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// --- 100 concurrent callers, 1 loader call -------------------------------------------------
let calls = 0
const getReport = cache(60, { key: 'report:{id}' })(async (id) => {
  calls++
  await sleep(50) // a slow upstream
  return { id, rows: 1000 }
})

const results = await Promise.all(Array.from({ length: 100 }, () => getReport(7)))
assert.equal(calls, 1)
assert.equal(new Set(results).size, 1) // the very same object for everyone
console.log(`100 concurrent getReport(7) -> ${calls} loader call, 1 shared result`)

await Promise.all([getReport(1), getReport(2), getReport(2)])
assert.equal(calls, 3) // one flight per key
console.log(`getReport(1), getReport(2), getReport(2) -> ${calls - 1} more loader calls (one per key)`)

// --- a shared error, not cached ------------------------------------------------------------
let attempts = 0
const flaky = cache(60, { key: 'flaky' })(async () => {
  attempts++
  await sleep(30)
  if (attempts === 1) throw new Error('upstream timeout')
  return 'ok'
})

const settled = await Promise.allSettled(Array.from({ length: 10 }, () => flaky()))
assert.equal(attempts, 1)
assert.ok(settled.every((r) => r.status === 'rejected'))
assert.equal(new Set(settled.map((r) => r.reason)).size, 1) // the same Error object for all ten
console.log(`10 concurrent flaky() -> ${attempts} loader call, all 10 rejected with the same error: "${settled[0].reason.message}"`)

assert.equal(await flaky(), 'ok') // the error was not cached: the next call runs the loader again
assert.equal(await flaky(), 'ok') // and the success is cached
assert.equal(attempts, 2)
console.log(`next call -> loader ran again (errors are never cached) and returned "ok"; attempts: ${attempts}`)
console.log('\nsingle-flight.mjs: OK')
