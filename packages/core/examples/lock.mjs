// Distributed single-flight: two "processes" (two cached wrappers) share a store with a lock;
// concurrent cold misses call the loader once. A real deployment uses RedisCache from @acache/redis;
// here a tiny in-memory lock table stands in for it.
// Run: node examples/lock.mjs
import assert from 'node:assert/strict'
import { cache, InMemCache } from '@acache/core'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// An InMemCache plus a lock table: what a shared lock backend offers (tryLock → lock | null).
class LockingStore extends InMemCache {
  locks = new Map()
  async tryLock(key, timeout) {
    const held = this.locks.get(key)
    if (held !== undefined && held.expiresAt > Date.now()) return null
    const token = Symbol(key)
    this.locks.set(key, { token, expiresAt: Date.now() + timeout * 1000 })
    return { release: async () => void (this.locks.get(key)?.token === token && this.locks.delete(key)) }
  }
}

const store = new LockingStore()
let loaderCalls = 0
const loadReport = async (day) => {
  loaderCalls++
  await sleep(100) // an expensive query
  return { day, rows: 42 }
}
const processA = cache(60, { key: 'report:{day}', store, lock: { timeout: '5s' } })(loadReport)
const processB = cache(60, { key: 'report:{day}', store, lock: { timeout: '5s' } })(loadReport)

const [a, b] = await Promise.all([processA('2026-01-01'), processB('2026-01-01')])
assert.deepEqual(a, { day: '2026-01-01', rows: 42 })
assert.deepEqual(b, a)
assert.equal(loaderCalls, 1)
assert.equal(store.locks.size, 0) // released
console.log(`two processes, one cold key: loader calls = ${loaderCalls}; both got`, b)

// A store without tryLock is refused at decoration.
assert.throws(() => cache(60, { lock: true, store: new InMemCache() })(loadReport), /option "lock" needs a store that implements tryLock/)
console.log('lock with a plain InMemCache: TypeError at decoration')
console.log('\nlock.mjs: OK')
