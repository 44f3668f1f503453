// A synchronous function stays synchronous with a synchronous store (InMemCache, the default):
// no promise, no await, on misses and hits alike.  Run: node examples/sync.mjs
import assert from 'node:assert/strict'
import { cache } from '@acache/core'

let reads = 0
const loadConfig = (env) => {
  reads++
  return { env, debug: env !== 'prod' } // e.g. fs.readFileSync + JSON.parse
}
const getConfig = cache(60, { key: 'config:{env}' })(loadConfig)

const a = getConfig('prod') // miss: runs loadConfig synchronously
assert.ok(!(a instanceof Promise))
assert.deepEqual(a, { env: 'prod', debug: false })
const b = getConfig('prod') // hit: the same object, synchronously
assert.equal(b, a)
assert.equal(reads, 1)
console.log('getConfig("prod") ->', a, `(not a Promise; 2 calls, ${reads} load)`)

// Falsy values are cached like any other value (undefined never, null only with cacheNull).
let n = 0
const zero = cache(60)(() => (n++, 0))
assert.equal(zero(), 0)
assert.equal(zero(), 0)
assert.equal(n, 1)
let m = 0
const nothing = cache(60)(() => (m++, undefined))
nothing()
nothing()
assert.equal(m, 2)
let k = 0
const nul = cache(60, { cacheNull: true })(() => (k++, null))
nul()
nul()
assert.equal(k, 1)
console.log('0 is cached (1 load for 2 calls); undefined is not (2 loads); null with cacheNull: true is (1 load)')

// A synchronous throw reaches the caller and is not cached.
let tries = 0
const parse = cache(60)((text) => {
  tries++
  if (tries === 1) throw new SyntaxError('bad input')
  return text.length
})
assert.throws(() => parse('x'), SyntaxError)
assert.equal(parse('x'), 1)
console.log('a synchronous throw reaches the caller and is not cached')
console.log('\nsync.mjs: OK')
