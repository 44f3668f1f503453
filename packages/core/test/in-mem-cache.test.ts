import { runStorageSuite } from '@acache/storage-test-suite'
import { InMemCache } from '../src/index.js'
import { now as clockNow, resetClock } from '../src/clock.js'

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

// The engine keeps a miss's load in the store as a placeholder record until it lands (InMemCache.hold).
describe('InMemCache load placeholders', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2026, 0, 1) })
    resetClock()
  })
  afterEach(() => jest.useRealTimers())

  const owner = {}
  const flight = () => new Promise<unknown>(() => {})
  const hold = (s: InMemCache, key: string) => s.hold(key, owner, flight(), clockNow())
  const t = () => Date.now() / 1000

  test('a placeholder is invisible to every public method until it lands', () => {
    const s = new InMemCache()
    s.set('other', 1, 0)
    const rec = hold(s, 'k')
    expect(s.slot('k', t())).toBe(rec)
    expect(s.record('k', t())).toBeUndefined()
    expect(s.get('k')).toBeUndefined()
    expect(s.exists('k')).toBe(false)
    expect(s.getEntry('k')).toBeUndefined()
    expect(s.getMany(['k', 'other'])).toEqual(new Map([['other', 1]]))
    expect(s.size).toBe(1)
    expect(s.memoryUsage().entries).toBe(1)

    expect(s.land('k', rec, { v: 1 }, t(), 60, 60)).toBe(true)
    expect(s.get('k')).toEqual({ v: 1 })
    expect(s.getEntry('k')).toEqual({ value: { v: 1 }, createdAt: t(), freshUntil: t() + 60 })
    expect(s.size).toBe(2)
    expect(rec.promise).toBeUndefined() // the load's promise is not kept by the entry
    expect(s.land('k', rec, { v: 2 }, t(), 60, 60)).toBe(false) // lands once
    expect(s.get('k')).toEqual({ v: 1 })
  })

  test('delete, set, setIfNotExists and clear drop a placeholder: its load then stores nothing', () => {
    const s = new InMemCache()
    let rec = hold(s, 'k')
    s.delete('k')
    expect(s.land('k', rec, 'late', t(), 60, 60)).toBe(false)
    expect(s.get('k')).toBeUndefined()
    expect(s.size).toBe(0)

    rec = hold(s, 'k')
    s.set('k', 'direct', 60)
    expect(s.land('k', rec, 'late', t(), 60, 60)).toBe(false)
    expect(s.get('k')).toBe('direct')
    expect(s.size).toBe(1)

    s.delete('k')
    rec = hold(s, 'k')
    expect(s.setIfNotExists('k', 'first', 60)).toBe(true)
    expect(s.land('k', rec, 'late', t(), 60, 60)).toBe(false)
    expect(s.get('k')).toBe('first')

    rec = hold(s, 'x')
    s.clear()
    expect(s.size).toBe(0)
    expect(s.land('x', rec, 'late', t(), 60, 60)).toBe(false)
    expect(s.size).toBe(0)
    expect(s.slot('x', t())).toBeUndefined()
  })

  test('a second placeholder for a key drops the first; release removes only its own', () => {
    const s = new InMemCache()
    const first = hold(s, 'k')
    const second = hold(s, 'k')
    expect(s.land('k', first, 'old', t(), 60, 60)).toBe(false)
    s.release('k', first)
    expect(s.slot('k', t())).toBe(second)
    s.release('k', second)
    expect(s.slot('k', t())).toBeUndefined()
    expect(s.size).toBe(0)
    s.set('k', 'v', 60)
    s.release('k', second) // already released: the entry stored since stays
    expect(s.get('k')).toBe('v')
    expect(s.land('k', hold(s, 'k'), undefined, t(), 60, 60)).toBe(false) // undefined is never stored
    expect(s.slot('k', t())).toBeUndefined()
  })

  test('placeholders never expire, are never evicted and do not count against maxSize', () => {
    const s = new InMemCache({ maxSize: 2 })
    s.set('a', 1, 1)
    s.set('b', 2, 0)
    const c = hold(s, 'c')
    const d = hold(s, 'd')
    expect(s.size).toBe(2)
    expect([s.get('a'), s.get('b')]).toEqual([1, 2])
    jest.advanceTimersByTime(3_600_000)
    expect(s.cleanupExpired()).toBe(1) // 'a'
    expect(s.slot('c', t())).toBe(c)
    s.set('e', 5, 0) // makes room by evicting an entry, never a placeholder
    s.set('f', 6, 0)
    expect(s.size).toBe(2)
    expect(s.slot('c', t())).toBe(c)
    expect(s.slot('d', t())).toBe(d)
    // Landing admits the value like an insertion: still at most maxSize entries.
    expect(s.land('c', c, 'C', t(), 60, 60)).toBe(true)
    expect(s.land('d', d, 'D', t(), 60, 60)).toBe(true)
    expect(s.size).toBe(2)
    expect([s.get('c'), s.get('d')]).toEqual(['C', 'D'])
  })

  test('under maxBytes a landed value is counted and bounded like a set one', () => {
    const s = new InMemCache({ maxBytes: 5_000 })
    s.set('k', 'x'.repeat(1000), 0)
    const rec = hold(s, 'k')
    expect(s.memoryUsage()).toEqual({ bytes: 0, entries: 0, mb: 0 })
    s.release('k', rec)
    for (let i = 0; i < 10; i++) {
      const r = hold(s, `k${i}`)
      expect(s.land(`k${i}`, r, 'x'.repeat(1000), t(), 60, 60)).toBe(true)
    }
    expect(s.size).toBeGreaterThan(0)
    expect(s.size).toBeLessThan(10)
    expect(s.memoryUsage().bytes).toBeLessThanOrEqual(5_000)
    expect(s.get('k9')).toBe('x'.repeat(1000))
  })

  test('cleanupExpired skips the pass while nothing can have expired, and finds what has', () => {
    const s = new InMemCache()
    s.set('short', 1, 1)
    s.set('long', 2, 100)
    s.set('forever', 3, 0)
    const rec = hold(s, 'loading')
    expect(s.cleanupExpired()).toBe(0)
    jest.advanceTimersByTime(1000) // exactly the end of 'short': still there (inclusive)
    expect(s.cleanupExpired()).toBe(0)
    jest.advanceTimersByTime(1)
    expect(s.cleanupExpired()).toBe(1)
    expect(s.land('loading', rec, 4, t(), 10, 10)).toBe(true)
    jest.advanceTimersByTime(10_001)
    expect(s.cleanupExpired()).toBe(1) // 'loading', which landed after the last pass
    jest.advanceTimersByTime(90_000)
    expect(s.cleanupExpired()).toBe(1) // 'long'
    expect(s.size).toBe(1)
    expect(s.get('forever')).toBe(3)
  })
})
