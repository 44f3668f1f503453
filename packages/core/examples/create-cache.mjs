// createCache(): a cache object for code that does not fit a decorated function — get, getOrSet
// (single-flight, stale-while-revalidate), set, delete, warmup and getMetrics.
// Run: node examples/create-cache.mjs
import assert from 'node:assert/strict'
import { createCache } from '@acache/core'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
let fetches = 0
async function fetchProfile(key) {
  fetches++
  await sleep(30)
  if (key === 'profile:404') throw new Error('not found upstream')
  return { key, fetchedAt: Date.now() }
}

const profiles = createCache({ ttl: 0.2, stale: 1, name: 'profiles' })

// --- getOrSet: ten concurrent callers, one fetch ---------------------------------------------
const all = await Promise.all(Array.from({ length: 10 }, () => profiles.getOrSet('profile:1', fetchProfile)))
assert.equal(fetches, 1)
assert.equal(new Set(all).size, 1)
console.log(`10 concurrent getOrSet('profile:1') -> ${fetches} fetch`)

// --- stale-while-revalidate ---------------------------------------------------------------------
await sleep(250) // past the ttl, inside the stale window
const stale = await profiles.getOrSet('profile:1', fetchProfile)
assert.equal(stale, all[0]) // the stale value, at once
await sleep(150) // the background refresh lands
const fresh = await profiles.getOrSet('profile:1', fetchProfile)
assert.notEqual(fresh, all[0])
assert.equal(fetches, 2)
console.log('after the ttl -> stale value returned at once, one background refresh replaced it')

// --- set / get / delete, per-call ttl -----------------------------------------------------------
profiles.set('profile:2', { key: 'profile:2', fetchedAt: 0 }, { ttl: 60 })
assert.equal(profiles.get('profile:2').fetchedAt, 0)
profiles.delete('profile:2')
assert.equal(profiles.get('profile:2'), undefined)
console.log('set / get / delete -> ok')

// --- warmup: load what is missing, skip what is there, report failures -------------------------
const report = await profiles.warmup({
  'profile:1': fetchProfile, // present: skipped
  'profile:3': fetchProfile,
  'profile:404': fetchProfile,
})
assert.deepEqual(report.loaded, ['profile:3'])
assert.deepEqual(report.skipped, ['profile:1'])
assert.deepEqual(report.failed.map((f) => [f.key, f.error.message]), [['profile:404', 'not found upstream']])
console.log(`warmup -> loaded ${JSON.stringify(report.loaded)}, skipped ${JSON.stringify(report.skipped)}, failed ["profile:404"]`)

// --- metrics, counted by the object itself -------------------------------------------------------
const m = profiles.getMetrics()
// Misses: the ten first callers (joining a running load is a miss) and get() after delete();
// hits: the stale read, the fresh read and get('profile:2'). Warmup is not counted as traffic.
assert.deepEqual(m, { hits: 3, misses: 11, size: 2, hitRate: 3 / 14 })
console.log(`getMetrics() -> ${JSON.stringify({ ...m, hitRate: Number(m.hitRate.toFixed(3)) })}`)
console.log('\ncreate-cache.mjs: OK')
