// Turns scenario results (the JSON the scenario files print / write) into markdown: one table per
// scenario, the acache-vs-targets summary, benchmarks/RESULTS.md and the root README section.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '—')
const ns = (x) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} µs` : `${x.toFixed(0)} ns`)
const ms = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1))

/** What each scenario measures (headings of RESULTS.md). */
export const titles = {
  'sync-hit': 'Sync hit — 1,000 keys, warmed',
  'async-hit': 'Async hit — 1,000 keys, warmed',
  miss: 'Miss — 100,000 distinct keys per round, instant async loader, a fresh cache each round',
  stampede: 'Stampede — 1,000 concurrent callers, one cold key, 20 ms loader',
  memory: 'Memory — 1,000,000 {id, name} entries, bytes per entry after GC',
  'redis-sequential': 'Redis hits — one caller, sequential',
  'redis-concurrent': 'Redis hits — 100 concurrent callers',
  'hybrid-hit': 'HybridCache — L1 + L2 (Redis) hit',
  'redis-pause': 'Redis paused (SIGSTOP) for 2 s during load',
}

const gateRows = (r, columns) => [
  ...Object.entries(r.failed ?? {}).map(([name, why]) => `| ${name} | **failed the correctness gate** (not timed): ${why} |${' |'.repeat(columns - 2)}`),
  ...Object.entries(r.na ?? {}).map(([name, why]) => `| ${name} | n/a — ${why} |${' |'.repeat(columns - 2)}`),
]

/** One markdown table for a scenario result. */
export function formatScenario(name, r) {
  const head = `### ${titles[name] ?? name}\n`
  if (r.kind === 'error') return `${head}\n**Did not complete**: ${r.error}.\n`
  if (r.kind === 'ratio') {
    const rows = Object.entries(r.results).map(([lib, x]) => `| ${lib} | ${ns(x.medianNs)} | ${fmt(x.ratio)}× |`)
    return [head, `| library | median time per call | time ÷ ${r.baseline} (lower is faster) |`, '|---|---|---|', ...rows, ...gateRows(r, 3), ''].join('\n')
  }
  if (r.kind === 'stampede') {
    const rows = Object.entries(r.results).map(([lib, x]) => `| ${lib} | ${x.loaderCalls} | ${fmt(x.wallMs)} ms | ${fmt(x.overheadMs)} ms |`)
    return [head, '| library | loader calls | wall time (median) | overhead = wall − loader time (median) |', '|---|---|---|---|', ...rows, ...gateRows(r, 4), ''].join('\n')
  }
  if (r.kind === 'memory') {
    const rows = Object.entries(r.results).map(([lib, x]) => `| ${lib} | ${x.overheadBytesPerEntry} B | ${x.totalBytesPerEntry === undefined ? '—' : `${x.totalBytesPerEntry} B`} |`)
    return [
      head,
      `${r.entries.toLocaleString('en-US')} entries through each store's own \`set\`, TTL 1 h. Store structures = heap growth with keys and values made beforehand and kept outside (a copy the library makes, e.g. a serialized value, counts); everything = the same with keys and values made by the fill (measured for the baseline and acache only).`,
      '',
      '| library | store structures per entry | everything per entry (key string + value + store) |',
      '|---|---|---|',
      ...rows,
      ...gateRows(r, 3),
      '',
    ].join('\n')
  }
  if (r.kind === 'redis') {
    const rows = Object.entries(r.results).map(
      ([lib, x]) =>
        `| ${lib} | ${Math.round(x.opsPerSec).toLocaleString('en-US')} | ${fmt(x.speedVsRaw)}× | ${fmt(x.speedVsRawNoTimeout)}× | ${fmt(x.commandsPerHit ?? 1, 1)} | ${r.config?.[lib] ?? ''} |`,
    )
    return [
      head,
      `${r.callers} caller(s), ${r.keys.toLocaleString('en-US')} keys; speed = raw time ÷ library time in the same round (higher is faster; 1.00× = as fast as a bare GET).`,
      '',
      '| library | calls/s (median) | speed vs raw GET, default client | speed vs raw GET, command timeout off | Redis commands per hit | configuration |',
      '|---|---|---|---|---|---|',
      ...rows,
      ...gateRows(r, 6),
      '',
    ].join('\n')
  }
  if (r.kind === 'hybrid') {
    const rows = Object.entries(r.results).map(([lib, x]) => `| ${lib} | ${ns(x.medianNs)} | ${fmt(x.ratio)}× | ${r.config?.[lib] ?? ''} |`)
    return [
      head,
      `Every hit is served by L1 (checked: Redis sees no reads while timing). For scale, a raw node-redis GET on this machine took ${r.rawGetNs ? ns(r.rawGetNs) : '—'}.`,
      '',
      `| library | median time per call | time ÷ ${r.baseline} (lower is faster) | configuration |`,
      '|---|---|---|---|',
      ...rows,
      ...gateRows(r, 4),
      '',
    ].join('\n')
  }
  if (r.kind === 'pause') {
    const rows = Object.entries(r.results).map(
      ([lib, x]) =>
        `| ${lib} | ${x.calls} | ${x.errors}${x.unsettled ? ` (+${x.unsettled} never settled)` : ''} | ${ms(x.p50)} | ${ms(x.p99)} | ${ms(x.max)} | ${x.loaderCalls} | ${r.config?.[lib] ?? ''} |`,
    )
    return [
      head,
      `Open-loop load of ${r.rate} calls/s over ${r.keys} warmed keys for ${r.seconds.total} s: ${r.seconds.before} s normal, ${r.seconds.paused} s with redis-server stopped (SIGSTOP), ${r.seconds.after} s after SIGCONT. ` +
        `Loader: ${r.loaderMs} ms. Latency of every call issued in the window, in ms; an error is a call that rejected.`,
      '',
      '| library | calls | errors | p50 ms | p99 ms | max ms | loader calls | configuration |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      ...gateRows(r, 8),
      '',
    ].join('\n')
  }
  return head + '```json\n' + JSON.stringify(r, null, 2) + '\n```\n'
}

/** acache against the targets: `[scenario, figure, target, met]` rows. */
export function summaryRows(all) {
  const rows = []
  const a = (name) => all[name]?.results?.acache
  const failedRow = (name, label, target) => {
    const why = all[name]?.failed?.acache
    if (why) rows.push([label, `failed the correctness gate: ${why}`, target, false])
    else if (!all[name] || all[name].kind === 'error') rows.push([label, all[name]?.error ?? 'not run', target, false])
    return Boolean(why) || !all[name] || all[name].kind === 'error'
  }
  const ratioRow = (name, label, limit) => {
    if (failedRow(name, label, `≤ ${limit}× memo`)) return
    const x = a(name)
    rows.push([label, `${fmt(x.ratio)}× memo (${ns(x.medianNs)} vs ${ns(all[name].results.memo.medianNs)})`, `≤ ${limit.toFixed(1)}×`, x.ratio <= limit])
  }
  ratioRow('sync-hit', 'sync hit', 1.0)
  ratioRow('async-hit', 'async hit (1,000 keys, warmed)', 1.0)
  if (!failedRow('miss', 'miss (100,000 distinct keys)', '≤ 1.2×')) {
    const x = a('miss')
    const sf = all.miss.results['memo+single-flight']
    rows.push(['miss (100,000 distinct keys)', `${fmt(x.ratio)}× memo${sf ? `; ${fmt(x.ratio / sf.ratio)}× a memo with single-flight` : ''}`, '≤ 1.2×', x.ratio <= 1.2])
  }
  if (!failedRow('stampede', 'stampede (1,000 callers, 20 ms loader)', '1 call, ≤ 1 ms')) {
    const x = a('stampede')
    rows.push(['stampede (1,000 callers, 20 ms loader)', `${x.loaderCalls} loader call${x.loaderCalls === 1 ? '' : 's'}, ${fmt(x.overheadMs)} ms overhead`, '1 call, ≤ 1 ms', x.loaderCalls === 1 && x.overheadMs <= 1])
  }
  if (!failedRow('memory', 'memory (1,000,000 {id, name} entries)', '≤ 160 B/entry')) {
    const x = a('memory')
    rows.push(['memory (1,000,000 {id, name} entries)', `${x.overheadBytesPerEntry} B/entry for the store (${x.totalBytesPerEntry} B with key and value)`, '≤ 160 B/entry', x.overheadBytesPerEntry <= 160])
  }
  const redisRow = (name, label, limit) => {
    if (failedRow(name, label, `≥ ${limit}× raw`)) return
    const x = a(name)
    rows.push([
      label,
      `${fmt(x.speedVsRaw)}× raw node-redis GET (default client); ${fmt(x.speedVsRawNoTimeout)}× with its command timeout off`,
      `≥ ${limit.toFixed(2)}×`,
      x.speedVsRaw >= limit,
    ])
  }
  redisRow('redis-sequential', 'Redis hits, sequential (speed)', 0.95)
  redisRow('redis-concurrent', 'Redis hits, 100 concurrent callers (speed)', 0.85)
  if (!failedRow('hybrid-hit', 'HybridCache L1+L2 hit', '— (no target)')) {
    const x = a('hybrid-hit')
    rows.push(['HybridCache L1+L2 hit', `${fmt(x.ratio)}× memo (${ns(x.medianNs)})`, '— (no target)', null])
  }
  if (!failedRow('redis-pause', 'Redis paused 2 s (p99)', 'p99 ≤ deadline + loader')) {
    const r = all['redis-pause']
    const x = r.results.acache
    const limit = r.deadlineMs + r.loaderMs
    rows.push([
      'Redis paused 2 s during load',
      `p99 ${ms(x.p99)} ms, max ${ms(x.max)} ms, ${x.errors} errors (deadline ${r.deadlineMs} ms, loader ${r.loaderMs} ms)`,
      `p99 ≤ ${limit} ms`,
      x.p99 <= limit,
    ])
  }
  return rows
}

export function summaryTable(all) {
  return [
    '| scenario | acache | target | met |',
    '|---|---|---|---|',
    ...summaryRows(all).map(([what, figure, target, met]) => `| ${what} | ${figure} | ${target} | ${met === null ? '—' : met ? 'yes' : '**no**'} |`),
  ].join('\n')
}

const METHOD = [
  '- **Correctness gate before timing**: every library must return the right value for every key and call the loader the expected number of times (once per key; for Redis, reads must really reach Redis, counted with `INFO stats`). A library that fails is listed as failing the gate and not timed.',
  '- **Data made before timing**; candidates **interleaved in rotated rounds inside one process** (each round runs every candidate once, the order rotated by one each round), the heap collected before each measurement, untimed warm-up round(s) first.',
  '- **Each figure is a ratio to the baseline measured in the same round**, then the median over ≥ 5 rounds. In-memory scenarios: time ÷ the hand-written memo (a `Map` lookup plus a `Date.now()` expiry check), **lower is faster**. Redis hits: **speed** = raw node-redis GET time ÷ library time, **higher is faster** (so the target "≥ 0.85×" means at least 85 % of a bare GET\'s throughput).',
  '- Every scenario runs in its own Node process (`src/bench.mjs` spawns `node --expose-gc src/<file>.mjs <scenario>`); Redis scenarios start their own `redis-server` on a free loopback port and kill it by PID.',
  '- The machine is shared and noisy (2 cores): compare ratios from the same table, not absolute times across runs.',
].join('\n')

const CONFIG = [
  'How each library is used (as its README shows for a memoised async function with a TTL; key `user:<id>`):',
  '',
  '- **memo**: `Map` + `Date.now()` expiry, no single-flight; **memo+single-flight** adds an in-flight `Map`.',
  "- **acache**: `cache(ttl, { key: 'user:{id}' })(fn)` (default `InMemCache`); Redis: `RedisCache(client)` (defaults: 500 ms deadline, circuit breaker 5 failures / 5 s); hybrid: `HybridCache.fromRedis(client)` (L1 `InMemCache`, invalidation bus on).",
  '- **lru-cache**: `fetch()` with a `fetchMethod` (async), `memo()` with a `memoMethod` (sync), `max` large enough for every key, `ttl`.',
  "- **bentocache**: `getOrSet({ key, factory, ttl })`; memory driver with defaults (L1 values stored as JSON) and `maxItems` for every key; Redis: `redisDriver` over an ioredis connection as **L2 only** (no L1), and **L1 memory + L2 redis + redis bus** in the hybrid scenario; defaults otherwise (soft timeout 0, no hard timeout, no L2 circuit breaker).",
  '- **cache-manager**: `createCache({ ttl })` (one in-memory Keyv) and `wrap(key, fn)`; Redis: `stores: [new Keyv({ store: new KeyvRedis(url) })]`; hybrid: `[Keyv(CacheableMemory), Keyv(KeyvRedis)]` as in its README.',
  "- **cacheable**: `new Cacheable({ ttl })` and `getOrSet(key, fn)` (its `wrap()` is the same plus a hash of the arguments); sync: `CacheableMemory.getOrSet` (default `useClones: true`, so hits return copies); Redis hits: `KeyvRedis` as the primary store (Redis only); hybrid: default memory primary + `KeyvRedis` secondary (blocking, its default).",
  '- **cachified**: `cachified({ key, cache, getFreshValue, ttl })` with the lru-cache adapter from its README; Redis: `cachified-redis-adapter` `redisCacheAdapter(client)` on the same node-redis client as the raw baseline.',
  "- **async-cache-dedupe**: `createCache({ ttl, storage: { type: 'memory', options: { size } } }).define(name, fn)`; Redis: `storage: { type: 'redis', options: { client: ioredis } }`.",
  "- **p-memoize**: `pMemoize(fn, { cache: new ExpiryMap(ttl) })` (its README's way to expire entries; `expiry-map` is a benchmark dependency for that).",
].join('\n')

/** Writes benchmarks/RESULTS.md and the root README section between the bench markers. */
export function writeReports(all, meta) {
  const benchDir = join(import.meta.dirname, '..')
  const date = meta.date.slice(0, 10)
  const about = `${meta.machine}; acache ${meta.versions['@acache/core']}; \`pnpm bench\` on ${date}${meta.wallSeconds ? ` (all scenarios: ${Math.round(meta.wallSeconds)} s)` : ''}.`
  const table = summaryTable(all)
  const versions = Object.entries(meta.versions).map(([k, v]) => `\`${k}\` ${v}`).join(', ')
  const order = Object.keys(titles).filter((name) => all[name])
  const reran = order.filter((name) => all[name].measuredAt && all[name].measuredAt.slice(0, 10) !== date)
  const md = [
    '# Benchmark results',
    '',
    `Generated by \`pnpm bench\` (\`benchmarks/src/bench.mjs\`) — do not edit by hand.`,
    '',
    `- **Machine**: ${meta.machine}; load average at start ${meta.loadavg}.`,
    `- **Date**: ${meta.date}${meta.wallSeconds ? `; the whole run takes ${Math.round(meta.wallSeconds)} s` : ''}.`,
    `- **Versions**: ${versions}.`,
    reran.length ? `- Scenarios measured on another date: ${reran.map((n) => `${n} (${all[n].measuredAt})`).join(', ')}.` : '',
    '',
    '## Summary: acache against the targets',
    '',
    table,
    '',
    '## Method',
    '',
    METHOD,
    '',
    CONFIG,
    '',
    '## Scenarios',
    '',
    ...order.map((name) => `${formatScenario(name, all[name])}\n_${all[name].elapsedSeconds ?? '?'} s, measured ${all[name].measuredAt ?? '?'}._\n${(all[name].notes ?? []).map((n) => `\n${n}\n`).join('')}`),
  ].join('\n')
  writeFileSync(join(benchDir, 'RESULTS.md'), md.replace(/\n{3,}/g, '\n\n'))
  const readme = join(benchDir, '..', 'README.md')
  const text = readFileSync(readme, 'utf8')
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  if (text.includes(start) && text.includes(end)) {
    const section = `${start}\n${about}\n\n${table}\n\nIn-memory figures are time ÷ a hand-written memo (lower is faster); Redis figures are speed vs a raw node-redis GET (higher is faster). Every peer library (lru-cache, bentocache, cache-manager, cacheable, cachified, async-cache-dedupe, p-memoize), the method and all tables: [benchmarks/RESULTS.md](benchmarks/RESULTS.md).\n${end}`
    writeFileSync(readme, text.slice(0, text.indexOf(start)) + section + text.slice(text.indexOf(end) + end.length))
  }
  return table
}
