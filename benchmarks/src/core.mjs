// Core scenarios: acache against a hand-written minimal memo (a Map lookup plus a Date.now()
// expiry check), in one process. Usage: node --expose-gc src/core.mjs [scenario ...]
// Scenarios: sync-hit async-hit miss stampede memory (default: all). Results go to stdout and,
// when every scenario runs, to benchmarks/RESULTS.md and the root README (between bench markers).
import { readFileSync, writeFileSync } from 'node:fs'
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

// The same memo with in-process single-flight (what acache also does on a miss), for reference.
function memoAsyncSingleFlight(fn, ttlSeconds) {
  const map = new Map()
  const inflight = new Map()
  return async (id) => {
    const key = 'user:' + id
    const e = map.get(key)
    if (e !== undefined && e.expires > Date.now()) return e.value
    const pending = inflight.get(key)
    if (pending !== undefined) return pending
    const p = fn(id)
    inflight.set(key, p)
    try {
      const value = await p
      map.set(key, { value, expires: Date.now() + ttlSeconds * 1000 })
      return value
    } finally {
      inflight.delete(key)
    }
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
    const fresh = {
      memo: () => memoAsync(load, TTL),
      'memo+single-flight': () => memoAsyncSingleFlight(load, TTL),
      acache: () => cache(TTL, { key: 'user:{id}' })(load),
    }
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
    return compare(
      Object.fromEntries(Object.entries(fresh).map(([name, make]) => [name, run(make)])),
      { iterations: N, rounds: 7, warmup: 1 },
    )
  },

  async stampede() {
    // 1,000 concurrent callers on one cold key, a 20 ms loader. Overhead = wall time from the first
    // call to the last caller resuming, minus the loader's own duration measured inside it (so
    // timer jitter is not counted as overhead).
    const callers = 1000
    const rounds = []
    for (let r = 0; r < 7; r++) {
      let calls = 0
      let loaderMs = 0
      const f = cache(TTL, { key: 'cold' })(async () => {
        calls++
        const started = performance.now()
        await new Promise((resolve) => setTimeout(resolve, 20))
        loaderMs = performance.now() - started
        return { ok: true }
      })
      const t = performance.now()
      const results = await Promise.all(Array.from({ length: callers }, () => f()))
      const wall = performance.now() - t
      check(results.every((x) => x === results[0] && x.ok), 'same result for every caller')
      rounds.push({ calls, wall, overhead: wall - loaderMs })
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

// ---- report -----------------------------------------------------------------------------------
const targets = {
  'sync-hit': (r) => [`sync hit`, `${r.acache.ratio.toFixed(2)}× memo (${r.acache.medianNs.toFixed(0)} ns vs ${r.memo.medianNs.toFixed(0)} ns)`, '≤ 1.0×', r.acache.ratio <= 1],
  'async-hit': (r) => [`async hit (1,000 keys, warmed)`, `${r.acache.ratio.toFixed(2)}× memo (${r.acache.medianNs.toFixed(0)} ns vs ${r.memo.medianNs.toFixed(0)} ns)`, '≤ 1.0×', r.acache.ratio <= 1],
  miss: (r) => [
    `miss (100,000 distinct keys, instant async loader)`,
    `${r.acache.ratio.toFixed(2)}× memo; ${(r.acache.ratio / r['memo+single-flight'].ratio).toFixed(2)}× a memo with single-flight`,
    '≤ 1.2×',
    r.acache.ratio <= 1.2,
  ],
  stampede: (r) => [`stampede (1,000 callers, one cold key, 20 ms loader)`, `${r.acache.loaderCalls} loader call, ${r.acache.overheadMs.toFixed(2)} ms overhead`, '1 call, ≤ 1 ms', r.acache.loaderCalls === 1 && r.acache.overheadMs <= 1],
  memory: (r) => [`memory (1,000,000 {id, name} entries in InMemCache)`, `${r.acache.overheadBytesPerEntry} B/entry for the store (${r.acache.totalBytesPerEntry} B with key and value)`, '≤ 160 B/entry', r.acache.overheadBytesPerEntry <= 160],
}

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(scenarios)
const results = {}
for (const name of wanted) {
  if (!scenarios[name]) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`)
  results[name] = await scenarios[name]()
  console.log(name, JSON.stringify(results[name]))
}

if (wanted.length === Object.keys(scenarios).length) {
  const rows = Object.keys(scenarios).map((name) => targets[name](results[name]))
  const table = [
    '| scenario | acache | target | met |',
    '|---|---|---|---|',
    ...rows.map(([what, figure, target, met]) => `| ${what} | ${figure} | ${target} | ${met ? 'yes' : '**no**'} |`),
  ].join('\n')
  const about = `${machine()}; @acache/core ${coreVersion}; \`pnpm bench\` on ${new Date().toISOString().slice(0, 10)}.`
  const method =
    'Every figure is a ratio to a hand-written minimal memo (a `Map` lookup plus a `Date.now()` expiry check) ' +
    'measured in the same round, candidates interleaved in rotated rounds in one process, a correctness gate ' +
    'before timing, the median over ≥ 5 rounds after warm-up. Lower is better.'
  const raw = Object.entries(results).map(([name, r]) => `### ${name}\n\n\`\`\`json\n${JSON.stringify(r, null, 2)}\n\`\`\`\n`)
  writeFileSync(join(import.meta.dirname, '..', 'RESULTS.md'), ['# Benchmark results', '', about, '', method, '', table, '', '## Raw figures', '', ...raw].join('\n'))
  const readme = join(import.meta.dirname, '..', '..', 'README.md')
  const text = readFileSync(readme, 'utf8')
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  if (text.includes(start) && text.includes(end)) {
    const section = `${start}\n${about}\n\n${table}\n\nMethod and raw figures: [benchmarks/RESULTS.md](benchmarks/RESULTS.md).\n${end}`
    writeFileSync(readme, text.slice(0, text.indexOf(start)) + section + text.slice(text.indexOf(end) + end.length))
  }
  console.log('\n' + table)
}
