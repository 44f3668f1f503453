import { InMemoryMetrics, NULL_METRICS } from '../src/metrics.js'
import type { MetricsCollector } from '../src/types.js'

describe('NULL_METRICS', () => {
  test('is a frozen collector whose methods do nothing and return undefined', () => {
    expect(Object.isFrozen(NULL_METRICS)).toBe(true)
    const methods: Array<keyof MetricsCollector> = [
      'recordHit',
      'recordMiss',
      'recordSet',
      'recordDelete',
      'recordLatency',
      'recordError',
      'recordMemoryUsage',
      'recordBackgroundRefresh',
    ]
    expect(Object.keys(NULL_METRICS).sort()).toEqual([...methods].sort())
    for (const method of methods) {
      expect(typeof NULL_METRICS[method]).toBe('function')
    }
    expect(NULL_METRICS.recordHit('c', true)).toBeUndefined()
    expect(NULL_METRICS.recordLatency('c', 'get', 1)).toBeUndefined()
    expect(() => {
      ;(NULL_METRICS as { recordHit: unknown }).recordHit = () => 1
    }).toThrow(TypeError)
  })
})

describe('InMemoryMetrics', () => {
  test('an empty collector reports empty sections', () => {
    const stats = new InMemoryMetrics().getStats()
    expect(stats).toEqual({
      uptimeSeconds: expect.any(Number) as number,
      caches: {},
      latency: {},
      errors: {},
      memory: {},
      backgroundRefresh: {},
    })
    expect(stats.uptimeSeconds).toBeGreaterThanOrEqual(0)
    expect(stats.uptimeSeconds).toBeLessThan(5)
  })

  test('counts hits, misses, sets, deletes and stale hits per cache', () => {
    const metrics = new InMemoryMetrics()
    metrics.recordHit('users')
    metrics.recordHit('users', false)
    metrics.recordHit('users', true)
    metrics.recordMiss('users')
    metrics.recordSet('users')
    metrics.recordSet('users')
    metrics.recordDelete('users')
    metrics.recordMiss('prices')
    expect(metrics.getStats().caches).toEqual({
      users: { hits: 3, misses: 1, sets: 2, deletes: 1, hitRatePercent: 75, staleHits: 1 },
      prices: { hits: 0, misses: 1, sets: 0, deletes: 0, hitRatePercent: 0, staleHits: 0 },
    })
  })

  test('hitRatePercent is rounded to 2 decimals and 0 with no lookups', () => {
    const metrics = new InMemoryMetrics()
    metrics.recordHit('a')
    metrics.recordMiss('a')
    metrics.recordMiss('a') // 1/3
    for (let i = 0; i < 2; i++) metrics.recordHit('b')
    metrics.recordMiss('b') // 2/3
    metrics.recordSet('c') // no lookups
    const { caches } = metrics.getStats()
    expect(caches.a.hitRatePercent).toBe(33.33)
    expect(caches.b.hitRatePercent).toBe(66.67)
    expect(caches.c.hitRatePercent).toBe(0)
  })

  test('latency: seconds in, milliseconds out, nearest-rank percentiles', () => {
    const metrics = new InMemoryMetrics()
    // 1..100 ms, recorded in a scrambled order.
    for (let i = 0; i < 100; i++) metrics.recordLatency('users', 'get', (((i * 37) % 100) + 1) / 1000)
    const stats = metrics.getStats().latency['users.get']
    expect(stats.count).toBe(100)
    expect(stats.p50Ms).toBeCloseTo(50, 9)
    expect(stats.p95Ms).toBeCloseTo(95, 9)
    expect(stats.p99Ms).toBeCloseTo(99, 9)
    expect(stats.avgMs).toBeCloseTo(50.5, 9)
  })

  test('latency of one sample, and separate keys per name.op', () => {
    const metrics = new InMemoryMetrics()
    metrics.recordLatency('users', 'get', 0.25)
    metrics.recordLatency('users', 'set', 0.5)
    metrics.recordLatency('prices', 'get', 2)
    expect(metrics.getStats().latency).toEqual({
      'users.get': { count: 1, p50Ms: 250, p95Ms: 250, p99Ms: 250, avgMs: 250 },
      'users.set': { count: 1, p50Ms: 500, p95Ms: 500, p99Ms: 500, avgMs: 500 },
      'prices.get': { count: 1, p50Ms: 2000, p95Ms: 2000, p99Ms: 2000, avgMs: 2000 },
    })
  })

  test('percentiles cover only the last latencySamples samples; count and avg cover all', () => {
    const metrics = new InMemoryMetrics({ latencySamples: 4 })
    // 1, 2, …, 10 seconds; the window keeps 7, 8, 9, 10.
    for (let s = 1; s <= 10; s++) metrics.recordLatency('c', 'get', s)
    expect(metrics.getStats().latency['c.get']).toEqual({ count: 10, p50Ms: 8000, p95Ms: 10000, p99Ms: 10000, avgMs: 5500 })
    // Wrapping keeps working: add 0.001 s twice → window 9, 10, 0.001, 0.001.
    metrics.recordLatency('c', 'get', 0.001)
    metrics.recordLatency('c', 'get', 0.001)
    const stats = metrics.getStats().latency['c.get']
    expect(stats.count).toBe(12)
    expect(stats.p50Ms).toBe(1)
    expect(stats.p95Ms).toBe(10000)
    expect(stats.avgMs).toBeCloseTo((55.002 / 12) * 1000, 9)
  })

  test('the ring grows past its initial capacity up to the limit, then overwrites the oldest', () => {
    const metrics = new InMemoryMetrics({ latencySamples: 100 })
    // 150 samples: 1..150 ms. The window holds 51..150.
    for (let ms = 1; ms <= 150; ms++) metrics.recordLatency('c', 'op', ms / 1000)
    const stats = metrics.getStats().latency['c.op']
    expect(stats.count).toBe(150)
    expect(stats.p50Ms).toBeCloseTo(100, 9)
    expect(stats.p99Ms).toBeCloseTo(149, 9)
    expect(stats.avgMs).toBeCloseTo(75.5, 9)
  })

  test('ignores negative, NaN and infinite latencies', () => {
    const metrics = new InMemoryMetrics()
    metrics.recordLatency('c', 'get', -1)
    metrics.recordLatency('c', 'get', NaN)
    metrics.recordLatency('c', 'get', Infinity)
    expect(metrics.getStats().latency).toEqual({})
    metrics.recordLatency('c', 'get', 0)
    expect(metrics.getStats().latency['c.get']).toEqual({ count: 1, p50Ms: 0, p95Ms: 0, p99Ms: 0, avgMs: 0 })
  })

  test('errors are counted per name.op and error type', () => {
    const metrics = new InMemoryMetrics()
    metrics.recordError('redis', 'get', 'TimeoutError')
    metrics.recordError('redis', 'get', 'TimeoutError')
    metrics.recordError('redis', 'get', 'WireFormatError')
    metrics.recordError('redis', 'set', 'TimeoutError')
    expect(metrics.getStats().errors).toEqual({
      'redis.get': { TimeoutError: 2, WireFormatError: 1 },
      'redis.set': { TimeoutError: 1 },
    })
  })

  test('memory keeps the last report per cache, with mb rounded to 2 decimals', () => {
    const metrics = new InMemoryMetrics()
    metrics.recordMemoryUsage('mem', 1000, 1)
    metrics.recordMemoryUsage('mem', 3 * 1048576 + 524288, 42)
    metrics.recordMemoryUsage('other', 12345, 3)
    expect(metrics.getStats().memory).toEqual({
      mem: { bytes: 3670016, entries: 42, mb: 3.5 },
      other: { bytes: 12345, entries: 3, mb: 0.01 },
    })
  })

  test('background refresh outcomes are counted per cache', () => {
    const metrics = new InMemoryMetrics()
    metrics.recordBackgroundRefresh('flags', true)
    metrics.recordBackgroundRefresh('flags', true)
    metrics.recordBackgroundRefresh('flags', false)
    metrics.recordBackgroundRefresh('rates', false)
    expect(metrics.getStats().backgroundRefresh).toEqual({
      flags: { success: 2, failure: 1 },
      rates: { success: 0, failure: 1 },
    })
  })

  test('getStats returns fresh plain objects; mutating them does not touch the collector', () => {
    const metrics = new InMemoryMetrics()
    metrics.recordHit('a')
    const first = metrics.getStats()
    first.caches.a.hits = 999
    expect(metrics.getStats().caches.a.hits).toBe(1)
    expect(JSON.parse(JSON.stringify(metrics.getStats().caches))).toEqual({
      a: { hits: 1, misses: 0, sets: 0, deletes: 0, hitRatePercent: 100, staleHits: 0 },
    })
  })

  test('a cache named __proto__ is an ordinary key, not a prototype', () => {
    const metrics = new InMemoryMetrics()
    metrics.recordHit('__proto__')
    const { caches } = metrics.getStats()
    expect(Object.getPrototypeOf(caches)).toBe(Object.prototype)
    expect(Object.keys(caches)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(caches, '__proto__')?.value).toEqual({
      hits: 1,
      misses: 0,
      sets: 0,
      deletes: 0,
      hitRatePercent: 100,
      staleHits: 0,
    })
  })

  test('reset() forgets everything and restarts uptime', async () => {
    const metrics = new InMemoryMetrics()
    metrics.recordHit('a')
    metrics.recordLatency('a', 'get', 1)
    metrics.recordError('a', 'get', 'X')
    metrics.recordMemoryUsage('a', 1, 1)
    metrics.recordBackgroundRefresh('a', true)
    await new Promise((resolve) => setTimeout(resolve, 30))
    const before = metrics.getStats().uptimeSeconds
    expect(before).toBeGreaterThanOrEqual(0.02)
    metrics.reset()
    const after = metrics.getStats()
    expect(after.uptimeSeconds).toBeLessThan(before)
    expect(after).toEqual({
      uptimeSeconds: after.uptimeSeconds,
      caches: {},
      latency: {},
      errors: {},
      memory: {},
      backgroundRefresh: {},
    })
    metrics.recordMiss('a')
    expect(metrics.getStats().caches.a.misses).toBe(1)
  })

  test('validates its options with TypeErrors naming the option', () => {
    expect(new InMemoryMetrics({ latencySamples: 1 })).toBeInstanceOf(InMemoryMetrics)
    for (const bad of [0, -5, 1.5, NaN, Infinity, '10']) {
      expect(() => new InMemoryMetrics({ latencySamples: bad as number })).toThrow(
        new TypeError(`Invalid latencySamples: expected a positive integer, got ${String(bad)}`),
      )
    }
    expect(() => new InMemoryMetrics(null as unknown as object)).toThrow(
      new TypeError('InMemoryMetrics options must be an object, got null'),
    )
    expect(() => new InMemoryMetrics(5 as unknown as object)).toThrow(TypeError)
  })

  test('implements the whole MetricsCollector protocol', () => {
    const collector: MetricsCollector = new InMemoryMetrics()
    expect(typeof collector.recordMemoryUsage).toBe('function')
  })
})
