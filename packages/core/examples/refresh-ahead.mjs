// refreshAhead (never-die): a key being read is refreshed before it expires, so callers never wait
// after the first load; a failed refresh keeps serving the last good value.
// Run: node examples/refresh-ahead.mjs
import assert from 'node:assert/strict'
import { bg, cache } from '@acache/core'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

let version = 0
let fail = false
const errors = []
const getRates = cache(0.3, {
  key: 'rates',
  refreshAhead: { at: 0.5, backoff: { initial: 0.1, max: 0.2 } }, // refresh 150 ms after each write
  onError: (error, info) => errors.push(`${info.operation}: ${error.message}`),
})(async () => {
  await sleep(20)
  if (fail) throw new Error('forex API down')
  return { EURUSD: 1.08, version: ++version }
})

assert.equal((await getRates()).version, 1) // the only call that waits
await sleep(200) // refreshed in the background at ~150 ms
let t = performance.now()
const r = await getRates()
assert.equal(r.version, 2)
assert.ok(performance.now() - t < 15, 'a read never waits for the loader')
console.log(`after 200 ms: version ${r.version}, served in ${(performance.now() - t).toFixed(2)} ms`)

fail = true
for (let i = 0; i < 6; i++) {
  await sleep(100) // keep reading: the key stays scheduled
  assert.equal((await getRates()).version, 2) // past its 300 ms TTL too: the last good value
}
assert.ok(errors.length >= 2, `refreshes failed and were reported (${errors.length})`)
console.log(`upstream down for 600 ms: still served version 2; ${errors.length} failed refreshes reported, e.g. "${errors[0]}"`)

fail = false
await sleep(300) // the next retry (≤ 200 ms apart) succeeds
assert.ok((await getRates()).version >= 3)
console.log(`upstream back: version ${(await getRates()).version}`)
await bg.shutdown() // stops refresh-ahead schedules too
console.log('\nrefresh-ahead.mjs: OK')
