import { runStorageSuite } from '@acache/storage-test-suite'
import { InMemCache } from '../src/index.js'
import { resetClock } from '../src/clock.js'

runStorageSuite(
  { describe, test, beforeEach, afterEach },
  { name: 'InMemCache', create: () => new InMemCache(), capabilities: { binary: true } },
)

describe('InMemCache specifics', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2026, 0, 1) })
    resetClock()
  })
  afterEach(() => jest.useRealTimers())

  test('answers synchronously', () => {
    const s = new InMemCache()
    expect(s.set('a', 1, 10)).toBeUndefined()
    expect(s.get('a')).toBe(1)
    expect(s.getMany(['a', 'b'])).toEqual(new Map([['a', 1]]))
  })

  test('stores references, not copies', () => {
    const s = new InMemCache()
    const v = { a: 1 }
    s.set('k', v, 10)
    expect(s.get('k')).toBe(v)
  })

  test('maxSize evicts the least recently used entry first', () => {
    const s = new InMemCache({ maxSize: 3 })
    s.set('a', 1, 0)
    s.set('b', 2, 0)
    s.set('c', 3, 0)
    expect(s.get('a')).toBe(1)
    s.set('d', 4, 0)
    expect([...['a', 'b', 'c', 'd']].map((k) => s.exists(k))).toEqual([true, false, true, true])
    expect(s.size).toBe(3)
    s.set('e', 5, 0)
    expect(s.size).toBe(3)
    expect(s.exists('e')).toBe(true)
  })

  test('a bounded cache under a skewed workload keeps its hot keys', () => {
    const s = new InMemCache({ maxSize: 100 })
    for (let i = 0; i < 10_000; i++) {
      const hot = `hot${i % 10}`
      if (s.get(hot) === undefined) s.set(hot, i, 0)
      s.set(`cold${i}`, i, 0)
    }
    expect(s.size).toBe(100)
    for (let h = 0; h < 10; h++) expect(s.exists(`hot${h}`)).toBe(true)
  })

  test('maxBytes bounds the estimated size', () => {
    const s = new InMemCache({ maxBytes: 10_000 })
    for (let i = 0; i < 100; i++) s.set(`k${i}`, 'x'.repeat(500), 0)
    expect(s.memoryUsage().bytes).toBeLessThanOrEqual(10_000)
    expect(s.size).toBeGreaterThan(0)
    expect(s.size).toBeLessThan(100)
  })

  test('expired entries are misses, swept on insertion, and removed by cleanupExpired()', () => {
    const s = new InMemCache()
    for (let i = 0; i < 10; i++) s.set(`k${i}`, i, 1)
    s.set('forever', 1, 0)
    jest.advanceTimersByTime(1001)
    expect(s.get('k0')).toBeUndefined()
    expect(s.size).toBe(10)
    expect(s.cleanupExpired()).toBe(9)
    expect(s.size).toBe(1)
    // Entries never read again are swept as the map grows: 2,000 expired ones do not survive
    // 2,000 later insertions.
    for (let i = 0; i < 2000; i++) s.set(`n${i}`, i, 1)
    jest.advanceTimersByTime(1001)
    for (let i = 0; i < 2000; i++) s.set(`m${i}`, i, 0)
    expect(s.size).toBeLessThanOrEqual(2001)
    expect(s.exists('m1999')).toBe(true)
  })

  test('memoryUsage reports entries and an estimate in bytes and MB', () => {
    const s = new InMemCache()
    s.set('a', 'x'.repeat(1000), 0)
    const u = s.memoryUsage()
    expect(u.entries).toBe(1)
    expect(u.bytes).toBeGreaterThan(2000)
    expect(u.mb).toBe(Math.round((u.bytes / 1048576) * 100) / 100)
  })

  test('bad options and ttls are TypeErrors naming them', () => {
    expect(() => new InMemCache({ maxSize: 0 })).toThrow(/maxSize/)
    expect(() => new InMemCache({ maxBytes: -1 })).toThrow(/maxBytes/)
    expect(() => new InMemCache({ maxsize: 1 } as any)).toThrow(/maxsize/)
    expect(() => new InMemCache().set('a', 1, NaN)).toThrow(/ttl/)
  })
})
