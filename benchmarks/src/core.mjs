// Core scenarios: acache against a hand-written minimal memo (a Map lookup plus a Date.now()
// expiry check), in one process. Usage: node --expose-gc src/core.mjs [scenario ...]
// Scenarios: sync-hit async-hit miss stampede memory (default: all). Results go to stdout and,
// when every scenario runs, to benchmarks/CORE-RESULTS.md.
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { cache, InMemCache } from '@acache/core'
import { compare, machine, median } from './harness.mjs'

const require = createRequire(import.meta.url)
const coreVersion = require('@acache/core/package.json').version
const TTL = 60
const KEYS = 1000

// ---- the baseline: what a developer would write by hand -------------------------------------
function memoSync(fn, ttlSeconds) {
  const map = new Map()
  return (id) => {
    const key = 'user:' + id
    const e = map.get(key)
    if (e !== undefined && e.expires > Date.now()) return e.value
    const value = fn(id)
    map.set(key, { value, expires: Date.now() + ttlSeconds * 1000 })
    return value
  }
}
function memoAsync(fn, ttlSeconds) {
  const map = new Map()
  return async (id) => {
    const key = 'user:' + id
    const e = map.get(key)
    if (e !== undefined && e.expires > Date.now()) return e.value
    const value = await fn(id)
    map.set(key, { value, expires: Date.now() + ttlSeconds * 1000 })
    return value
  }
}

const ids = Array.from({ length: KEYS }, (_, i) => i)
const user = (id) => ({ id, name: `user-${id}` })
const check = (cond, what) => {
  if (!cond) throw new Error(`correctness gate failed: ${what}`)
}

const scenarios = {
  async 'sync-hit'() {
    const memo = memoSync(user, TTL)
    const ours = cache(TTL, { key: 'user:{id}' })((id) => user(id))
    for (const id of ids) check(memo(id).id === id && ours(id).id === id, 'values')
    check(ours(5) === ours(5), 'hit returns the cached object')
    const loop = (f) => (n) => {
      let s = 0
      for (let i = 0; i < n; i++) s += f(ids[i % KEYS]).id
      if (s < 0) throw new Error()
    }
    return compare({ memo: loop(memo), acache: loop(ours) }, { iterations: 2_000_000 })
  },

  async 'async-hit'() {
    const memo = memoAsync(async (id) => user(id), TTL)
    const ours = cache(TTL, { key: 'user:{id}' })(async (id) => user(id))
    for (const id of ids) check((await memo(id)).id === id && (await ours(id)).id === id, 'values')
    const loop = (f) => async (n) => {
      let s = 0
      for (let i = 0; i < n; i++) s += (await f(ids[i % KEYS])).id
      if (s < 0) throw new Error()
    }
    return compare({ memo: loop(memo), acache: loop(ours) }, { iterations: 500_000 })
  },

  async miss() {
    // 100,000 distinct keys per round, an instant (async) loader; fresh caches every round.
    const N = 100_000
    let calls = 0
    const load = async (id) => {
      calls++
      return user(id)
    }
    const fresh = { memo: () => memoAsync(load, TTL), acache: () => cache(TTL, { key: 'user:{id}' })(load) }
    for (const make of Object.values(fresh)) {
      calls = 0
      const f = make()
      await f(1)
      await f(1)
      check(calls === 1, 'one loader call per key')
    }
    const run = (make) => async (n) => {
      const f = make()
      for (let i = 0; i < n; i++) await f(i)
    }
    return compare({ memo: run(fresh.memo), acache: run(fresh.acache) }, { iterations: N, rounds: 5, warmup: 1 })
  },

  async stampede() {
    // 1,000 concurrent callers on one cold key, a 20 ms loader. Overhead = wall time − a bare
    // single `await loader()` measured in the same round.
    const callers = 1000
    const loader = () => new Promise((r) => setTimeout(() => r({ ok: true }), 20))
    const rounds = []
    for (let r = 0; r < 7; r++) {
      let calls = 0
      const f = cache(TTL, { key: 'cold' })(async () => {
        calls++
        return loader()
      })
      let t = performance.now()
      await loader()
      const bare = performance.now() - t
      t = performance.now()
      const results = await Promise.all(Array.from({ length: callers }, () => f()))
      const wall = performance.now() - t
      check(results.every((x) => x === results[0] && x.ok), 'same result for every caller')
      rounds.push({ calls, wall, overhead: wall - bare })
    }
    return {
      acache: {
        loaderCalls: Math.max(...rounds.map((r) => r.calls)),
        wallMs: median(rounds.map((r) => r.wall)),
        overheadMs: median(rounds.map((r) => r.overhead)),
      },
    }
  },

  async memory() {
    if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')
    const N = 1_000_000
    const gc = () => {
      for (let i = 0; i < 3; i++) globalThis.gc()
    }
    // (a) keys and values made beforehand and kept outside: only the store's own structures count.
    const keys = Array.from({ length: N }, (_, i) => `user:${i}`)
    const values = keys.map((_, i) => user(i))
    gc()
    let before = process.memoryUsage().heapUsed
    let store = new InMemCache()
    for (let i = 0; i < N; i++) store.set(keys[i], values[i], 3600)
    gc()
    const overhead = (process.memoryUsage().heapUsed - before) / N
    check(store.size === N && store.get('user:7').id === 7, 'all entries present')
    store = undefined
    keys.length = 0
    values.length = 0
    gc()
    // (b) everything an entry brings: its key string, its {id, name} value and the store's structures.
    before = process.memoryUsage().heapUsed
    store = new InMemCache()
    for (let i = 0; i < N; i++) store.set(`user:${i}`, user(i), 3600)
    gc()
    const total = (process.memoryUsage().heapUsed - before) / N
    check(store.size === N, 'all entries present')
    return { acache: { overheadBytesPerEntry: Math.round(overhead), totalBytesPerEntry: Math.round(total) } }
  },
}

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(scenarios)
const lines = [`# Core benchmark results`, '', `${machine()}; @acache/core ${coreVersion}.`, '']
lines.push('Ratios are to the hand-written minimal memo measured in the same round (median of per-round ratios, ≥ 5 rounds after warm-up). Lower is better.', '')
for (const name of wanted) {
  if (!scenarios[name]) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`)
  const result = await scenarios[name]()
  console.log(name, JSON.stringify(result))
  lines.push(`## ${name}`, '', '```json', JSON.stringify(result, null, 2), '```', '')
}
if (wanted.length === Object.keys(scenarios).length) {
  writeFileSync(join(import.meta.dirname, '..', 'CORE-RESULTS.md'), lines.join('\n'))
}
