// In-memory scenarios: acache and the peer libraries against a hand-written minimal memo (a Map
// lookup plus a Date.now() expiry check), in one process.
// Usage: node --expose-gc src/core.mjs [scenario ...] [--json=out.json]
// Scenarios: sync-hit async-hit miss stampede memory (default: all). `src/bench.mjs` runs them all
// (each in its own process) and writes RESULTS.md and the root README section.
import { cache } from '@acache/core'
import { check, compare, gateAll, median, runScenarios } from './harness.mjs'
import { asyncPeers, memoAsyncSingleFlight, memoryNotApplicable, memoryStores, syncNotApplicable, syncPeers } from './peers.mjs'
import { formatScenario } from './report.mjs'

const TTL = 60
const KEYS = 1000
const ids = Array.from({ length: KEYS }, (_, i) => i)
const user = (id) => ({ id, name: `user-${id}` })
const sameUser = (v, id) => v !== null && typeof v === 'object' && v.id === id && v.name === `user-${id}`

const scenarios = {
  async 'sync-hit'() {
    // Gate: right values for every key, one loader call per key, none on the second pass.
    const made = {}
    const { passed, failed } = await gateAll(syncPeers, (make, name) => {
      let calls = 0
      const { fn } = make((id) => (calls++, user(id)), TTL)
      for (const id of ids) check(sameUser(fn(id), id), `${name}: value for key ${id}`)
      for (const id of ids) check(sameUser(fn(id), id), `${name}: cached value for key ${id}`)
      check(calls === KEYS, `${name}: ${calls} loader calls for ${KEYS} keys`)
      made[name] = fn
    })
    const loop = (f) => (n) => {
      let s = 0
      for (let i = 0; i < n; i++) s += f(ids[i % KEYS]).id
      if (s < 0) throw new Error()
    }
    const results = await compare(
      Object.fromEntries(Object.keys(passed).map((name) => [name, loop(made[name])])),
      { iterations: 1_000_000, budgetMs: 150, slices: 5, rounds: 7, warmup: 1 },
    )
    return { kind: 'ratio', baseline: 'memo', results, failed, na: syncNotApplicable }
  },

  async 'async-hit'() {
    const made = {}
    const { passed, failed } = await gateAll(asyncPeers, async (make, name) => {
      let calls = 0
      const { fn } = make(async (id) => (calls++, user(id)), TTL)
      for (const id of ids) check(sameUser(await fn(id), id), `${name}: value for key ${id}`)
      for (const id of ids) check(sameUser(await fn(id), id), `${name}: cached value for key ${id}`)
      check(calls === KEYS, `${name}: ${calls} loader calls for ${KEYS} keys`)
      made[name] = fn
    })
    const loop = (f) => async (n) => {
      let s = 0
      for (let i = 0; i < n; i++) s += (await f(ids[i % KEYS])).id
      if (s < 0) throw new Error()
    }
    const results = await compare(
      Object.fromEntries(Object.keys(passed).map((name) => [name, loop(made[name])])),
      { iterations: 500_000, budgetMs: 150, slices: 5, rounds: 7, warmup: 1 },
    )
    return { kind: 'ratio', baseline: 'memo', results, failed, na: {} }
  },

  async miss() {
    // 100,000 distinct keys per round, an instant (async) loader; a fresh cache every round.
    const N = 100_000
    let calls = 0
    const load = async (id) => {
      calls++
      return user(id)
    }
    const makers = { memo: asyncPeers.memo, 'memo+single-flight': (l, ttl) => ({ fn: memoAsyncSingleFlight(l, ttl) }), ...asyncPeers }
    const { passed, failed } = await gateAll(makers, async (make, name) => {
      calls = 0
      const { fn, close } = make(load, TTL)
      for (let id = 0; id < 100; id++) check(sameUser(await fn(id), id), `${name}: value for key ${id}`)
      for (let id = 0; id < 100; id++) check(sameUser(await fn(id), id), `${name}: cached value for key ${id}`)
      check(calls === 100, `${name}: ${calls} loader calls for 100 keys`)
      await close?.()
    })
    const run = (make) => async (n) => {
      const { fn, close } = make(load, TTL)
      for (let i = 0; i < n; i++) await fn(i)
      await close?.()
    }
    const results = await compare(
      Object.fromEntries(Object.entries(passed).map(([name, make]) => [name, run(make)])),
      { iterations: N, rounds: 5, warmup: 1 },
    )
    return { kind: 'ratio', baseline: 'memo', results, failed, na: {} }
  },

  async stampede() {
    // 1,000 concurrent callers on one cold key, a 20 ms loader. Overhead = wall time from the first
    // call to the last caller resuming, minus the loader's own duration measured inside it (the
    // longest one when a library runs it more than once), so timer jitter is not counted.
    const callers = 1000
    const rounds = 7
    const makers = { memo: asyncPeers.memo, 'memo+single-flight': (l, ttl) => ({ fn: memoAsyncSingleFlight(l, ttl) }), ...asyncPeers }
    const once = async (make) => {
      let calls = 0
      let loaderMs = 0
      const { fn, close } = make(async (id) => {
        calls++
        const started = performance.now()
        await new Promise((resolve) => setTimeout(resolve, 20))
        loaderMs = Math.max(loaderMs, performance.now() - started)
        return { id, name: `user-${id}` }
      }, TTL)
      const t = performance.now()
      const results = await Promise.all(Array.from({ length: callers }, () => fn(7)))
      const wall = performance.now() - t
      await close?.()
      return { calls, wall, overhead: wall - loaderMs, results }
    }
    const { passed, failed } = await gateAll(makers, async (make, name) => {
      const { results } = await once(make)
      check(results.length === callers && results.every((v) => sameUser(v, 7)), `${name}: every caller gets the value`)
    })
    const names = Object.keys(passed)
    const per = Object.fromEntries(names.map((n) => [n, []]))
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + r) % names.length]
        if (typeof globalThis.gc === 'function') globalThis.gc()
        const { calls, wall, overhead } = await once(passed[name])
        per[name].push({ calls, wall, overhead })
      }
    }
    const results = Object.fromEntries(
      names.map((n) => [
        n,
        {
          loaderCalls: Math.max(...per[n].map((r) => r.calls)),
          wallMs: median(per[n].map((r) => r.wall)),
          overheadMs: median(per[n].map((r) => r.overhead)),
          rounds: per[n].length,
        },
      ]),
    )
    return { kind: 'stampede', results, failed, na: {} }
  },

  async memory() {
    if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')
    const N = 1_000_000
    const gc = () => {
      for (let i = 0; i < 3; i++) globalThis.gc()
    }
    const heap = () => process.memoryUsage().heapUsed
    const fill = async (store, keyAt, valueAt) => {
      for (let i = 0; i < N; i++) {
        const p = store.set(keyAt(i), valueAt(i))
        if (p !== undefined) await p
      }
    }
    const results = {}
    const failed = {}
    for (const [name, make] of Object.entries(memoryStores)) {
      const started = performance.now()
      try {
        // Gate: a small store gives back what was set.
        const small = make(3600, 1000)
        for (let i = 0; i < 1000; i++) await small.set(`user:${i}`, user(i))
        for (let i = 0; i < 1000; i++) check(sameUser(await small.get(`user:${i}`), i), `${name}: entry user:${i}`)
        check(small.size() === 1000, `${name}: ${small.size()} entries of 1000`)
        await small.close?.()
        // (a) keys and values made beforehand and kept outside: only the store's own structures
        // count (plus any copy the library makes, e.g. a serialized value).
        let keys = Array.from({ length: N }, (_, i) => `user:${i}`)
        let values = keys.map((_, i) => user(i))
        gc()
        let before = heap()
        let store = make(3600, N)
        await fill(store, (i) => keys[i], (i) => values[i])
        gc()
        const overhead = (heap() - before) / N
        check(store.size() === N, `${name}: ${store.size()} entries of ${N}`)
        check(sameUser(await store.get('user:7'), 7), `${name}: entry user:7`)
        await store.close?.()
        store = undefined
        keys = values = undefined
        gc()
        // (b) everything an entry brings: its key string, its {id, name} value and the store's
        // structures. Only for the baseline and acache: for the others it is (a) plus the same
        // key and value, and the fills are slow.
        if (name !== 'Map (memo)' && name !== 'acache') {
          results[name] = { overheadBytesPerEntry: Math.round(overhead), seconds: Math.round((performance.now() - started) / 100) / 10 }
          continue
        }
        before = heap()
        store = make(3600, N)
        await fill(store, (i) => `user:${i}`, user)
        gc()
        const total = (heap() - before) / N
        check(store.size() === N, `${name}: ${store.size()} entries of ${N}`)
        await store.close?.()
        store = undefined
        gc()
        results[name] = { overheadBytesPerEntry: Math.round(overhead), totalBytesPerEntry: Math.round(total), seconds: Math.round((performance.now() - started) / 100) / 10 }
      } catch (error) {
        failed[name] = String(error?.message ?? error).slice(0, 200)
      }
    }
    return { kind: 'memory', entries: N, results, failed, na: memoryNotApplicable }
  },
}

// acache's default key template must not have changed what a call maps to.
check(cache(1, { key: 'user:{id}' })((id) => id).key(3) === 'user:3', 'key template')

await runScenarios(scenarios, formatScenario)
process.exit(0) // peers may keep timers (expiry sweeps) alive
