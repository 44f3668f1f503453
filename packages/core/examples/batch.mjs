// DataLoader-style batching: call with one id, load many per query. Calls made in the same tick
// (or within `windowMs`) are read from the store with one getMany and the misses loaded with one
// call of the batch function, duplicates removed.  Run: node examples/batch.mjs
import assert from 'node:assert/strict'
import { cache, InMemoryMetrics } from '@acache/core'

// A pretend database that logs every query it receives.
const queries = []
const db = {
  async usersByIds(ids) {
    queries.push(ids)
    await new Promise((r) => setTimeout(r, 20))
    return ids.filter((id) => id <= 100).map((id) => ({ id, name: `user${id}` }))
  },
}

const metrics = new InMemoryMetrics()
const getUser = cache(60, { key: 'user:{0}', batch: { windowMs: 5, maxBatchSize: 3 }, metrics, name: 'users' })(
  async (ids) => {
    const rows = await db.usersByIds(ids)
    return new Map(rows.map((u) => [u.id, u])) // ids left out of the Map are "not found"
  },
)

// --- four callers, one query ----------------------------------------------------------------
const [a, b, c, a2] = await Promise.all([getUser(1), getUser(2), getUser(3), getUser(1)])
assert.deepEqual(queries, [[1, 2, 3]]) // id 1 asked twice, loaded once
assert.equal(a2, a)
console.log(`getUser(1), getUser(2), getUser(3), getUser(1) -> queries: ${JSON.stringify(queries)}`)

// --- hits come from the store; only misses are loaded, split at maxBatchSize -----------------
const more = await getUser.many([1, 2, 4, 5, 6, 7, 8])
assert.deepEqual(more.map((u) => u.id), [1, 2, 4, 5, 6, 7, 8])
assert.deepEqual(queries.slice(1), [
  [4, 5, 6],
  [7, 8],
])
console.log(`getUser.many([1, 2, 4..8]) -> 2 hits, new queries: ${JSON.stringify(queries.slice(1))}`)

// --- an id the batch function does not return: undefined, not cached -----------------------
assert.equal(await getUser(999), undefined)
assert.equal(await getUser(999), undefined)
assert.deepEqual(queries.slice(3), [[999], [999]])
console.log('getUser(999) twice -> undefined both times, queried both times (misses are not cached)')

// --- one failing query reaches every caller of that batch -----------------------------------
let fail = true
const getPrice = cache(60, { key: 'price:{0}', batch: true })(async (symbols) => {
  if (fail) throw new Error('pricing service down')
  return symbols.map((s) => s.length * 10)
})
const settled = await Promise.allSettled([getPrice('AAPL'), getPrice('MSFT')])
assert.deepEqual(settled.map((r) => r.reason?.message), ['pricing service down', 'pricing service down'])
fail = false
assert.deepEqual(await getPrice.many(['AAPL', 'MSFT']), [40, 40]) // the error was not cached
console.log(`a failed batch -> both callers rejected ("${settled[0].reason.message}"); the retry loaded both`)

const stats = metrics.getStats()
// Per call: the four first calls and the five new ids were misses, ids 1 and 2 hits, 999 twice a miss.
assert.deepEqual([stats.caches.users.hits, stats.caches.users.misses], [2, 11])
assert.equal(stats.latency['users.load'].count, 5)
console.log(`metrics: hits ${stats.caches.users.hits}, misses ${stats.caches.users.misses}, batch calls ${stats.latency['users.load'].count}`)
console.log('\nbatch.mjs: OK')
