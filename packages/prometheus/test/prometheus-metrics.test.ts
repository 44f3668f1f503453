import { bg, cache, InMemCache, InstrumentedStorage, type CacheEntry } from '@acache/core'
import { Counter, Gauge, Registry, register as globalRegistry } from 'prom-client'
import { DEFAULT_LATENCY_BUCKETS, PrometheusMetrics } from '../src/index.js'
import { parseExposition, series, type Sample } from './support/exposition.js'
import { advance, useFakeClock } from './support/fake-clock.js'

const P = 'app_cache_'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function scrape(registry: Registry): Promise<Sample[]> {
  return parseExposition(await registry.metrics())
}

/** Every label value of every sample, `le` (bucket bounds) aside. */
function labelValues(samples: Sample[]): Set<string> {
  const values = new Set<string>()
  for (const s of samples) for (const [k, v] of Object.entries(s.labels)) if (k !== 'le') values.add(v)
  return values
}

describe('PrometheusMetrics driven by cache() and bg()', () => {
  useFakeClock(() => bg.shutdown())

  test('hits, misses, stale hits, sets, deletes, errors, refreshes and load latency of cache()', async () => {
    const registry = new Registry()
    const metrics = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })
    const store = new InMemCache()
    let fail = false
    const refreshFailures: unknown[] = []
    const getUser = cache(1, {
      metrics,
      name: 'users',
      store,
      stale: 10,
      key: 'user:{0}',
      onError: (error) => refreshFailures.push(error),
    })(async (id: number) => {
      await sleep(3) // 3 ms of fake time: the load latency
      if (fail) throw new RangeError(`user ${id} unavailable`)
      return { id }
    })

    // miss → load (3 ms) → set; the first write reports memory usage
    const first = getUser(1)
    await advance(0.003)
    await expect(first).resolves.toEqual({ id: 1 })
    const afterFirstWrite = store.memoryUsage()
    // three fresh hits
    await getUser(1)
    await getUser(1)
    await getUser(1)
    // a second key: miss → load → set
    const second = getUser(2)
    await advance(0.003)
    await second
    // user:1 goes stale: a stale hit and a successful background refresh (a set, a latency sample)
    await advance(1.5)
    await expect(getUser(1)).resolves.toEqual({ id: 1 })
    await advance(0.003)
    // user:2 goes stale while the loader fails: a stale hit, a failed refresh, a load error
    fail = true
    await advance(1.5)
    await expect(getUser(2)).resolves.toEqual({ id: 2 })
    await advance(0.003)
    expect(refreshFailures).toHaveLength(1)
    // invalidate → a delete; the next call misses and its load fails: a second load error
    await getUser.invalidate(1)
    const failing = getUser(1)
    const settled = expect(failing).rejects.toThrow(RangeError)
    await advance(0.003)
    await settled

    const samples = await scrape(registry)
    expect(series(samples, `${P}hits_total`)).toEqual({ 'cache_name=users': 5 })
    expect(series(samples, `${P}misses_total`)).toEqual({ 'cache_name=users': 3 })
    expect(series(samples, `${P}stale_hits_total`)).toEqual({ 'cache_name=users': 2 })
    expect(series(samples, `${P}sets_total`)).toEqual({ 'cache_name=users': 3 })
    expect(series(samples, `${P}deletes_total`)).toEqual({ 'cache_name=users': 1 })
    expect(series(samples, `${P}errors_total`)).toEqual({ 'cache_name=users,error_type=RangeError,operation=load': 2 })
    expect(series(samples, `${P}background_refresh_total`)).toEqual({
      'cache_name=users,status=success': 1,
      'cache_name=users,status=failure': 1,
    })
    // three successful loads of exactly 3 ms (failed loads record an error, not a latency sample)
    expect(series(samples, `${P}operation_duration_seconds_count`)).toEqual({ 'cache_name=users,operation=load': 3 })
    expect(series(samples, `${P}operation_duration_seconds_sum`)['cache_name=users,operation=load']).toBeCloseTo(0.009, 12)
    const buckets = series(samples, `${P}operation_duration_seconds_bucket`)
    expect(buckets['cache_name=users,le=0.0025,operation=load']).toBe(0)
    expect(buckets['cache_name=users,le=0.005,operation=load']).toBe(3)
    expect(buckets['cache_name=users,le=+Inf,operation=load']).toBe(3)
    expect(Object.keys(buckets)).toHaveLength(DEFAULT_LATENCY_BUCKETS.length + 1)
    // memory is reported on the first write and then every 128 writes: still the first report
    expect(series(samples, `${P}memory_bytes`)).toEqual({ 'cache_name=users': afterFirstWrite.bytes })
    expect(series(samples, `${P}entries`)).toEqual({ 'cache_name=users': 1 })
    expect(afterFirstWrite.bytes).toBeGreaterThan(0)

    // labels are cache names, operations, error classes and statuses — never a key
    expect(labelValues(samples)).toEqual(new Set(['users', 'load', 'RangeError', 'success', 'failure']))
    expect((await registry.metrics()).includes('user:')).toBe(false)
  })

  test('the memory gauges hold the latest report (replaced, not added)', async () => {
    const registry = new Registry()
    const metrics = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })
    const store = new InMemCache()
    const item = cache(60, { metrics, name: 'items', store, key: 'item:{0}' })((i: number) => 'x'.repeat(i))

    item(1)
    let samples = await scrape(registry)
    expect(series(samples, `${P}entries`)).toEqual({ 'cache_name=items': 1 })
    expect(series(samples, `${P}memory_bytes`)).toEqual({ 'cache_name=items': store.memoryUsage().bytes })

    for (let i = 2; i <= 128; i++) item(i)
    samples = await scrape(registry)
    expect(series(samples, `${P}entries`)).toEqual({ 'cache_name=items': 1 }) // no report between writes 2 and 128

    item(129) // the 129th write reports again
    const usage = store.memoryUsage()
    expect(usage.entries).toBe(129)
    samples = await scrape(registry)
    expect(series(samples, `${P}entries`)).toEqual({ 'cache_name=items': 129 })
    expect(series(samples, `${P}memory_bytes`)).toEqual({ 'cache_name=items': usage.bytes })
    expect(series(samples, `${P}sets_total`)).toEqual({ 'cache_name=items': 129 })
    expect(series(samples, `${P}misses_total`)).toEqual({ 'cache_name=items': 129 })
    // synchronous loads under a fake clock take 0 s: all in the first bucket
    expect(series(samples, `${P}operation_duration_seconds_bucket`)['cache_name=items,le=0.0001,operation=load']).toBe(129)
    expect(labelValues(samples)).toEqual(new Set(['items', 'load']))
  })

  test('bg(): successful and failing ticks count as background refreshes', async () => {
    const registry = new Registry()
    const metrics = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })
    const tickErrors: unknown[] = []
    let version = 0
    let failing = false
    const flags = bg(10, { key: 'feature_flags', name: 'flags', metrics, onError: (e) => tickErrors.push(e) })(async () => {
      if (failing) throw new TypeError('config service down')
      return ++version
    })

    await advance(0) // the immediate load
    expect(await flags()).toBe(1)
    await advance(10) // tick 2
    expect(await flags()).toBe(2)
    failing = true
    await advance(10) // tick 3 fails
    expect(await flags()).toBe(2) // the last value is kept until its ttl (2 × interval)
    await advance(10) // tick 4 fails, and the value written at t=10 is dead at t=30
    expect(tickErrors).toHaveLength(2)
    await expect(flags()).rejects.toThrow('config service down') // a miss whose load fails

    const samples = await scrape(registry)
    expect(series(samples, `${P}background_refresh_total`)).toEqual({
      'cache_name=flags,status=success': 2,
      'cache_name=flags,status=failure': 2,
    })
    expect(series(samples, `${P}errors_total`)).toEqual({ 'cache_name=flags,error_type=TypeError,operation=load': 3 })
    expect(series(samples, `${P}hits_total`)).toEqual({ 'cache_name=flags': 3 })
    expect(series(samples, `${P}misses_total`)).toEqual({ 'cache_name=flags': 1 })
    expect(series(samples, `${P}sets_total`)).toEqual({ 'cache_name=flags': 2 })
    expect(series(samples, `${P}operation_duration_seconds_count`)).toEqual({ 'cache_name=flags,operation=load': 2 })
    expect(series(samples, `${P}entries`)).toEqual({ 'cache_name=flags': 1 })
    expect(labelValues(samples)).toEqual(new Set(['flags', 'load', 'TypeError', 'success', 'failure']))
    expect((await registry.metrics()).includes('feature_flags')).toBe(false)
  })

  test('InstrumentedStorage: latency per store operation, stale hits on getEntry', async () => {
    const registry = new Registry()
    const metrics = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })
    const store = new InstrumentedStorage(new InMemCache(), metrics, 'sessions')
    expect(store.get('session:a')).toBeUndefined()
    store.set('session:a', 'alice', 1)
    store.setEntry('session:b', { value: 'bob', createdAt: Date.now() / 1000, freshUntil: Date.now() / 1000 + 1 }, 100)
    await advance(2)
    expect(store.get('session:a')).toBeUndefined() // physically expired
    expect((store.getEntry('session:b') as CacheEntry | undefined)?.value).toBe('bob') // stale
    store.delete('session:b')

    const samples = await scrape(registry)
    expect(series(samples, `${P}hits_total`)).toEqual({ 'cache_name=sessions': 1 })
    expect(series(samples, `${P}stale_hits_total`)).toEqual({ 'cache_name=sessions': 1 })
    expect(series(samples, `${P}misses_total`)).toEqual({ 'cache_name=sessions': 2 })
    expect(series(samples, `${P}sets_total`)).toEqual({ 'cache_name=sessions': 2 })
    expect(series(samples, `${P}deletes_total`)).toEqual({ 'cache_name=sessions': 1 })
    expect(series(samples, `${P}operation_duration_seconds_count`)).toEqual({
      'cache_name=sessions,operation=get': 2,
      'cache_name=sessions,operation=set': 1,
      'cache_name=sessions,operation=setEntry': 1,
      'cache_name=sessions,operation=getEntry': 1,
      'cache_name=sessions,operation=delete': 1,
    })
    expect(labelValues(samples)).toEqual(new Set(['sessions', 'get', 'set', 'setEntry', 'getEntry', 'delete']))
  })
})

describe('PrometheusMetrics', () => {
  test('labelled children are created once per cache name, not per call', async () => {
    const registry = new Registry()
    const metrics = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })
    metrics.recordHit('users')
    metrics.recordLatency('users', 'get', 0.001)
    const hits = registry.getSingleMetric(`${P}hits_total`) as Counter
    const duration = registry.getSingleMetric(`${P}operation_duration_seconds`) as unknown as { labels: () => unknown }
    const hitLabels = jest.spyOn(hits, 'labels')
    const durationLabels = jest.spyOn(duration, 'labels')
    for (let i = 0; i < 100; i++) {
      metrics.recordHit('users')
      metrics.recordLatency('users', 'get', 0.001)
    }
    expect(hitLabels).not.toHaveBeenCalled()
    expect(durationLabels).not.toHaveBeenCalled()
    const samples = await scrape(registry)
    expect(series(samples, `${P}hits_total`)).toEqual({ 'cache_name=users': 101 })
    expect(series(samples, `${P}operation_duration_seconds_count`)).toEqual({ 'cache_name=users,operation=get': 101 })
  })

  test('children survive registry.resetMetrics()', async () => {
    const registry = new Registry()
    const metrics = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })
    metrics.recordMiss('users')
    registry.resetMetrics()
    metrics.recordMiss('users')
    metrics.recordMiss('users')
    expect(series(await scrape(registry), `${P}misses_total`)).toEqual({ 'cache_name=users': 2 })
  })

  test('two collectors with the same names on one registry share the metrics', async () => {
    const registry = new Registry()
    const a = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })
    const b = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })
    a.recordHit('users')
    b.recordHit('users')
    b.recordHit('orders', true)
    a.recordBackgroundRefresh('users', false)
    b.recordBackgroundRefresh('users', false)
    const samples = await scrape(registry)
    expect(series(samples, `${P}hits_total`)).toEqual({ 'cache_name=users': 2, 'cache_name=orders': 1 })
    expect(series(samples, `${P}stale_hits_total`)).toEqual({ 'cache_name=orders': 1 })
    expect(series(samples, `${P}background_refresh_total`)).toEqual({ 'cache_name=users,status=failure': 2 })
    // and other names on the same registry are independent
    const other = new PrometheusMetrics({ namespace: 'app', subsystem: 'sessions', registry })
    other.recordHit('users')
    expect(series(await scrape(registry), 'app_sessions_hits_total')).toEqual({ 'cache_name=users': 1 })
  })

  test('a different metric already holding a name is a clear error', () => {
    const registry = new Registry()
    new Gauge({ name: `${P}hits_total`, help: 'someone else', registers: [registry] })
    expect(() => new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })).toThrow(
      /already holds a metric named "app_cache_hits_total" that is a gauge with labels \[\], not a counter with labels \[cache_name\]/,
    )
    const labelled = new Registry()
    new Counter({ name: `${P}misses_total`, help: 'x', labelNames: ['cache'], registers: [labelled] })
    expect(() => new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry: labelled })).toThrow(
      /"app_cache_misses_total" that is a counter with labels \[cache\]/,
    )
    const bucketed = new Registry()
    new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry: bucketed, buckets: [0.1, 1] })
    expect(() => new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry: bucketed })).toThrow(
      /"app_cache_operation_duration_seconds" that is a histogram with labels \[cache_name, operation\] and buckets \[0\.1,1\]/,
    )
  })

  test('custom buckets', async () => {
    const registry = new Registry()
    const metrics = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry, buckets: [0.01, 0.1] })
    metrics.recordLatency('users', 'load', 0.05)
    metrics.recordLatency('users', 'load', 0.5)
    expect(series(await scrape(registry), `${P}operation_duration_seconds_bucket`)).toEqual({
      'cache_name=users,le=0.01,operation=load': 0,
      'cache_name=users,le=0.1,operation=load': 1,
      'cache_name=users,le=+Inf,operation=load': 2,
    })
  })

  test('non-finite or negative values are ignored, never thrown', async () => {
    const registry = new Registry()
    const metrics = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })
    for (const bad of [NaN, -0.001, Infinity]) {
      expect(() => metrics.recordLatency('users', 'get', bad)).not.toThrow()
      expect(() => metrics.recordMemoryUsage('users', bad, bad)).not.toThrow()
    }
    metrics.recordLatency('users', 'get', 0)
    metrics.recordMemoryUsage('users', 1024, NaN)
    const samples = await scrape(registry)
    expect(series(samples, `${P}operation_duration_seconds_count`)).toEqual({ 'cache_name=users,operation=get': 1 })
    expect(series(samples, `${P}memory_bytes`)).toEqual({ 'cache_name=users': 1024 })
    expect(series(samples, `${P}entries`)).toEqual({})
  })

  test('cache names with quotes, backslashes and newlines are escaped in the exposition', async () => {
    const registry = new Registry()
    const metrics = new PrometheusMetrics({ namespace: 'app', subsystem: 'cache', registry })
    const name = 'we"ird\\name\nx'
    metrics.recordHit(name)
    expect(series(await scrape(registry), `${P}hits_total`)).toEqual({ [`cache_name=${name}`]: 1 })
  })

  test("defaults to prom-client's global registry", async () => {
    const metrics = new PrometheusMetrics({ namespace: 'acache_test', subsystem: 'global' })
    try {
      expect(metrics.registry).toBe(globalRegistry)
      metrics.recordSet('users')
      expect(series(parseExposition(await globalRegistry.metrics()), 'acache_test_global_sets_total')).toEqual({ 'cache_name=users': 1 })
      // a second collector (e.g. a module loaded twice) reuses the registered metrics
      expect(() => new PrometheusMetrics({ namespace: 'acache_test', subsystem: 'global' })).not.toThrow()
    } finally {
      for (const m of await globalRegistry.getMetricsAsJSON()) {
        if (m.name.startsWith('acache_test_global_')) globalRegistry.removeSingleMetric(m.name)
      }
    }
    expect(await globalRegistry.getMetricsAsJSON()).toEqual([])
  })

  test('options are validated with a TypeError naming the option', () => {
    const make = (options: unknown) => () => new PrometheusMetrics(options as never)
    expect(make(undefined)).toThrow(new TypeError('PrometheusMetrics: options { namespace, subsystem } are required'))
    expect(make(null)).toThrow(TypeError)
    expect(make({ namespace: 'app', subsystem: 'cache', prefix: 'x' })).toThrow(/unknown option "prefix"/)
    expect(make({ subsystem: 'cache' })).toThrow(/option "namespace" must be a Prometheus name part/)
    for (const bad of ['', 'my-app', '1app', 'a:b', 'a b', 'é']) {
      expect(make({ namespace: bad, subsystem: 'cache' })).toThrow(TypeError)
      expect(make({ namespace: bad, subsystem: 'cache' })).toThrow(/option "namespace"/)
      expect(make({ namespace: 'app', subsystem: bad })).toThrow(/option "subsystem"/)
    }
    expect(make({ namespace: 'app', subsystem: 42 })).toThrow(/option "subsystem" .* got 42/)
    expect(make({ namespace: 'app', subsystem: 'cache', registry: {} })).toThrow(/option "registry" must be a prom-client Registry/)
    for (const buckets of [[], [0.1, 0.1], [0.5, 0.1], [0, 1], [-1, 1], [0.1, Infinity], ['0.1'], 'fast']) {
      expect(make({ namespace: 'app', subsystem: 'cache', registry: new Registry(), buckets })).toThrow(/option "buckets"/)
    }
    expect(make({ namespace: '_app', subsystem: 'Cache_2', registry: new Registry() })).not.toThrow()
  })
})
