// staleIfError: when the loader fails on a dead entry, serve the last value for a while longer
// (reporting the error) instead of failing the caller. Errors are never cached.
// Run: node examples/stale-if-error.mjs
import assert from 'node:assert/strict'
import { cache } from '@acache/core'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

let down = false
let calls = 0
const errors = []
const getConfig = cache(0.1, { key: 'config', staleIfError: 0.3, onError: (e, info) => errors.push(`${info.operation}: ${e.message}`) })(
  async () => {
    calls++
    if (down) throw new Error('config service down')
    return { flags: ['a'] }
  },
)
assert.deepEqual(await getConfig(), { flags: ['a'] })
down = true
await sleep(150) // dead (TTL 100 ms), within 300 ms of staleIfError
assert.deepEqual(await getConfig(), { flags: ['a'] })
assert.deepEqual(errors, ['load: config service down'])
console.log(`loader failed, caller got the last value; reported "${errors[0]}"`)
await sleep(300) // past the window
await assert.rejects(getConfig(), /config service down/)
console.log(`past the window the caller gets the error (loader calls: ${calls})`)
console.log('\nstale-if-error.mjs: OK')
