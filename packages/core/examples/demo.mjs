// A guided tour of @acache/core against a simulated slow upstream. Run from the repository root
// with `pnpm demo`, or here with `node examples/demo.mjs`. Takes about 6 seconds, exits by itself.
import assert from 'node:assert/strict'
import { bg, cache, HybridCache, InMemCache, InMemoryMetrics } from '@acache/core'

// ------------------------------------------------------------------------------------------------
// Presentation helpers
// ------------------------------------------------------------------------------------------------
const tty = process.stdout.isTTY && !process.env.NO_COLOR
const paint = (code) => (s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : String(s))
const bold = paint('1')
const dim = paint('2')
const green = paint('32')
const yellow = paint('33')
const cyan = paint('36')

const started = performance.now()
const clock = () => dim(`[${((performance.now() - started) / 1000).toFixed(2).padStart(5)}s]`)
let section = 0
const title = (text) => console.log(`\n${bold(cyan(`${++section}. ${text}`))}\n${dim('─'.repeat(72))}`)
const say = (text) => console.log(`${clock()} ${text}`)
const note = (text) => console.log(`        ${dim(text)}`)
const ms = (t) => `${t < 1 ? t.toFixed(2) : t.toFixed(0)} ms`
const sleep = (t) => new Promise((r) => setTimeout(r, t))

/** Runs `fn` and returns [result, elapsed ms]. */
async function timed(fn) {
  const t0 = performance.now()
  const value = await fn()
  return [value, performance.now() - t0]
}

// ------------------------------------------------------------------------------------------------
// A simulated slow upstream: every endpoint takes `latency` ms and counts its calls.
// ------------------------------------------------------------------------------------------------
const upstream = {
  calls: {},
  down: false,
  async call(endpoint, latency, make) {
    this.calls[endpoint] = (this.calls[endpoint] ?? 0) + 1
    await sleep(latency)
    if (this.down) throw new Error(`${endpoint}: 503 Service Unavailable`)
    return make(this.calls[endpoint])
  },
  count(endpoint) {
    return this.calls[endpoint] ?? 0
  },
}

const metrics = new InMemoryMetrics()
const errors = []

console.log(bold('acache demo') + dim(' — @acache/core against a simulated upstream (200-300 ms per call)'))

// ------------------------------------------------------------------------------------------------
title('TTL caching: the second call is a memory read')
// ------------------------------------------------------------------------------------------------
const getUser = cache(60, { key: 'user:{id}', name: 'users', metrics })(async (id) =>
  upstream.call('users', 300, () => ({ id, name: ['Ada', 'Grace', 'Linus'][id % 3] })),
)
let [user, t] = await timed(() => getUser(1))
say(`getUser(1) → ${JSON.stringify(user)} in ${yellow(ms(t))}  ${dim('(miss: upstream called)')}`)
;[user, t] = await timed(() => getUser(1))
say(`getUser(1) → ${JSON.stringify(user)} in ${green(ms(t))}  ${dim('(hit)')}`)
say(`key: ${JSON.stringify(getUser.key(1))} · upstream calls so far: ${bold(upstream.count('users'))}`)
assert.equal(upstream.count('users'), 1)

// ------------------------------------------------------------------------------------------------
title('Single-flight: 100 concurrent callers, one upstream call')
// ------------------------------------------------------------------------------------------------
let results
;[results, t] = await timed(() => Promise.all(Array.from({ length: 100 }, () => getUser(2))))
say(`100 × getUser(2) resolved in ${yellow(ms(t))} → ${new Set(results).size} distinct result`)
say(`upstream calls for user 2: ${bold(upstream.count('users') - 1)}`)
note('(in metrics each of the 100 counts as a miss: they all missed the cache and joined one load)')
assert.equal(upstream.count('users'), 2)

upstream.down = true
const settled = await Promise.allSettled(Array.from({ length: 20 }, () => getUser(3)))
upstream.down = false
say(`20 × getUser(3) while the upstream fails → ${settled.filter((r) => r.status === 'rejected').length} rejected with the same error, ${bold(upstream.count('users') - 2)} upstream call`)
;[user, t] = await timed(() => getUser(3))
say(`getUser(3) again → ${JSON.stringify(user)} in ${ms(t)}  ${dim('(errors are never cached)')}`)
assert.equal(upstream.count('users'), 4)
;[, t] = await timed(async () => {
  for (let i = 0; i < 1000; i++) await getUser(1 + (i % 3))
})
say(`1,000 × getUser(1…3) in ${green(ms(t))} → upstream calls: still ${bold(upstream.count('users'))}`)
assert.equal(upstream.count('users'), 4)

// ------------------------------------------------------------------------------------------------
title('Stale-while-revalidate: never make a caller wait for a refresh')
// ------------------------------------------------------------------------------------------------
note('cache(0.5, { stale: 10 }): fresh for 0.5 s, then served stale for up to 10 s while ONE refresh runs')
const getPrice = cache(0.5, {
  stale: 10,
  key: 'price:{symbol}',
  name: 'prices',
  metrics,
  onError: (error, info) => errors.push(`${info.operation} of ${info.key} failed: ${error.message}`),
})(async (symbol) => upstream.call('prices', 200, (n) => ({ symbol, price: 100 + n, version: n })))

let price
;[price, t] = await timed(() => getPrice('ACME'))
say(`getPrice('ACME') → v${price.version} in ${yellow(ms(t))}  ${dim('(miss)')}`)
await sleep(600)
say('… 0.6 s later the entry is stale')
;[results, t] = await timed(() => Promise.all(Array.from({ length: 10 }, () => getPrice('ACME'))))
say(`10 × getPrice('ACME') → v${results[0].version} in ${green(ms(t))}  ${dim('(stale, served at once)')}`)
say(`background refreshes started: ${bold(upstream.count('prices') - 1)}`)
assert.equal(upstream.count('prices'), 2)
await sleep(250)
;[price, t] = await timed(() => getPrice('ACME'))
say(`getPrice('ACME') → v${price.version} in ${green(ms(t))}  ${dim('(the refreshed value)')}`)
assert.equal(price.version, 2)

upstream.down = true
await sleep(600)
;[price, t] = await timed(() => getPrice('ACME'))
await sleep(250)
upstream.down = false
say(`with the upstream down: getPrice('ACME') → v${price.version} in ${green(ms(t))}  ${dim('(the refresh failed behind it)')}`)
say(`onError received: ${yellow(errors[0])}`)
assert.equal(price.version, 2)
assert.equal(errors.length, 1)

// ------------------------------------------------------------------------------------------------
title('Background refresh (bg): every read is local, the loader runs on a timer')
// ------------------------------------------------------------------------------------------------
const getFlags = bg(0.4, { key: 'feature_flags', metrics })(async () =>
  upstream.call('flags', 100, (n) => ({ newCheckout: n % 2 === 0, revision: n })),
)
let flags
;[flags, t] = await timed(() => getFlags())
say(`getFlags() → ${JSON.stringify(flags)} in ${ms(t)}  ${dim('(loaded at registration)')}`)
const seen = new Set()
let readCount = 0
const until = performance.now() + 1300
while (performance.now() < until) {
  seen.add((await getFlags()).revision)
  readCount++
  if (readCount % 500 === 0) await sleep(5)
}
say(`${readCount.toLocaleString('en-US')} reads over 1.3 s saw revisions ${[...seen].join(', ')} · upstream calls: ${bold(upstream.count('flags'))}`)
note('the timer is unref()ed: it never keeps the process alive; bg.shutdown() stops every timer')
assert.ok(upstream.count('flags') >= 3)
await bg.shutdown()

// ------------------------------------------------------------------------------------------------
title('Tiered storage: HybridCache = in-process L1 + shared L2')
// ------------------------------------------------------------------------------------------------
/** A store that answers after `latency` ms, standing in for Redis. */
function remoteStore(latency) {
  const inner = new InMemCache()
  const store = { inner }
  for (const m of ['get', 'set', 'delete', 'exists', 'getEntry', 'setEntry', 'setIfNotExists', 'getMany', 'setMany', 'clear']) {
    store[m] = async (...args) => {
      await sleep(latency)
      return inner[m](...args)
    }
  }
  return store
}
const shared = remoteStore(15) // a simulated remote L2 (15 ms per call), where Redis would go
const processA = new HybridCache({ l1Ttl: 30, l2Cache: shared })
const processB = new HybridCache({ l1Ttl: 30, l2Cache: shared })
const loadProduct = async (id) => upstream.call('products', 250, () => ({ id, title: `Product ${id}` }))
const productA = cache(300, { key: 'product:{id}', store: processA, name: 'products', metrics })(loadProduct)
const productB = cache(300, { key: 'product:{id}', store: processB, name: 'products', metrics })(loadProduct)

;say(dim('two HybridCaches over one simulated remote store stand in for two processes sharing Redis'))
;[, t] = await timed(() => productA(7))
say(`process A: product(7) in ${yellow(ms(t))}  ${dim('(miss everywhere: upstream, then the shared L2 + A’s memory)')}`)
;[, t] = await timed(() => productB(7))
say(`process B: product(7) in ${yellow(ms(t))}  ${dim('(B’s memory misses, the shared L2 hits; promoted into B’s memory)')}`)
;[, t] = await timed(() => productB(7))
say(`process B: product(7) in ${green(ms(t))}  ${dim('(B’s memory)')}`)
say(`upstream calls for products: ${bold(upstream.count('products'))}`)
assert.equal(upstream.count('products'), 1)

// ------------------------------------------------------------------------------------------------
title('Metrics summary (InMemoryMetrics.getStats())')
// ------------------------------------------------------------------------------------------------
const stats = metrics.getStats()
const rows = Object.entries(stats.caches).map(([name, c]) => {
  const load = stats.latency[`${name}.load`]
  const refresh = stats.backgroundRefresh[name]
  return [
    name,
    c.hits,
    c.staleHits,
    c.misses,
    c.sets,
    `${c.hitRatePercent.toFixed(1)}%`,
    load ? `${load.p50Ms.toFixed(0)} ms` : '-',
    refresh ? `${refresh.success}/${refresh.failure}` : '-',
  ]
})
const header = ['cache', 'hits', 'stale', 'misses', 'sets', 'hit rate', 'load p50', 'bg ok/fail']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
const line = (cells) => '  ' + cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')
console.log(bold(line(header)))
console.log(dim(line(widths.map((w) => '─'.repeat(w)))))
for (const r of rows) console.log(line(r))
const totalCalls = Object.values(upstream.calls).reduce((a, b) => a + b, 0)
const totalReads = Object.values(stats.caches).reduce((a, c) => a + c.hits + c.misses, 0)
console.log(`\n  ${totalReads.toLocaleString('en-US')} cached reads cost ${bold(totalCalls)} upstream calls.`)
assert.ok(stats.caches.users.misses >= 100) // callers that joined an in-flight load count as misses
assert.equal(stats.backgroundRefresh.prices.failure, 1)

console.log(`\n${green('✔')} demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s`)
