import { computePoint, LatencyWindows, percentile, StatsHistory, type Snapshot } from '../src/stats-history.js'

const snapshot = (over: Partial<Snapshot> = {}): Snapshot => ({
  caches: {},
  backgroundRefresh: {},
  upstream: { calls: 0, failures: 0 },
  http: { requests: 0, errors: 0 },
  ...over,
})

describe('percentile', () => {
  test('nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i) // 100..1
    expect(percentile([...values], 0.5)).toBe(50)
    expect(percentile([...values], 0.99)).toBe(99)
    expect(percentile([7], 0.99)).toBe(7)
    expect(percentile([], 0.5)).toBeNull()
  })
})

describe('computePoint', () => {
  test('per-interval rates, hit rates per function and tier, stale serves, refresh outcomes, latency', () => {
    const before = snapshot({
      caches: { product: { hits: 10, misses: 5, staleHits: 0 }, 'tier:memory': { hits: 4, misses: 1 } },
      backgroundRefresh: { price: { success: 3, failure: 1 } },
      upstream: { calls: 7, failures: 1 },
      http: { requests: 20, errors: 0 },
    })
    const after = snapshot({
      caches: { product: { hits: 13, misses: 6, staleHits: 0 }, price: { hits: 2, misses: 0, staleHits: 2 }, 'tier:memory': { hits: 4, misses: 1 } },
      backgroundRefresh: { price: { success: 4, failure: 3 }, writer: { success: 1, failure: 0 } },
      upstream: { calls: 9, failures: 2 },
      http: { requests: 26, errors: 1 },
    })
    const latencies = new Map([['product', [0.1, 0.2, 30, 0.1]], ['price', [0.05]]])
    const p = computePoint(before, after, latencies, { functions: ['product', 'price', 'flags'], tiers: ['tier:memory'] }, 1000, 1)
    expect(p).toEqual({
      t: 1000,
      seconds: 1,
      requests: 6,
      errors: 1,
      upstreamCalls: 2,
      upstreamFailures: 1,
      calls: { count: 5, p50Ms: 0.1, p99Ms: 30 },
      functions: {
        product: { reads: 4, hitRate: 75, stale: 0, p50Ms: 0.1, p99Ms: 30 },
        price: { reads: 2, hitRate: 100, stale: 2, p50Ms: 0.05, p99Ms: 0.05 },
        flags: { reads: 0, hitRate: null, stale: 0, p50Ms: null, p99Ms: null },
      },
      tiers: { 'tier:memory': { reads: 0, hitRate: null } },
      refreshes: { price: { success: 1, failure: 2 }, writer: { success: 1, failure: 0 } },
    })
  })
})

describe('StatsHistory', () => {
  test('keeps the last `capacity` points; since(t) returns the newer ones', () => {
    let now = 0
    let requests = 0
    const latencies = new LatencyWindows()
    const history = new StatsHistory({
      read: () => snapshot({ http: { requests, errors: 0 } }),
      latencies,
      functions: ['product'],
      tiers: [],
      capacity: 3,
      now: () => now,
    })
    for (let i = 1; i <= 5; i++) {
      now = i * 1000
      requests += i
      latencies.record('product', i)
      history.sample()
    }
    const all = history.since(0)
    expect(all.map((p) => p.t)).toEqual([3000, 4000, 5000])
    expect(all.map((p) => p.requests)).toEqual([3, 4, 5])
    expect(all.map((p) => p.functions.product.p50Ms)).toEqual([3, 4, 5])
    expect(history.since(4000).map((p) => p.t)).toEqual([5000])
  })

  test('LatencyWindows keeps a bounded sample per interval', () => {
    const w = new LatencyWindows(10)
    for (let i = 0; i < 1000; i++) w.record('x', i)
    expect(w.drain().get('x')).toHaveLength(10)
    expect(w.drain().size).toBe(0)
  })
})
