import { runStorageSuite } from '@acache/storage-test-suite'
import { ChainCache } from '../src/chain-cache.js'
import { STORAGE_METHODS as METHODS } from '../src/store-resolution.js'
import { asyncStore as asyncStoreOf } from './support/async-store.js'
import { T0, useFakeClock } from './support/fake-clock.js'
import { HybridCache } from '../src/hybrid-cache.js'
import { InMemCache } from '../src/in-mem-cache.js'
import { supportsLocking } from '../src/store-resolution.js'
import type { CacheStorage, InvalidationBus, InvalidationMessage } from '../src/types.js'

const t0 = T0 / 1000

const asyncStore = (inner: CacheStorage = new InMemCache()) => asyncStoreOf(inner, { defer: 'immediate' })

function failingStore(): CacheStorage {
  const out: Record<string, unknown> = {}
  for (const m of METHODS) out[m] = () => Promise.reject(new Error(`down (${m})`))
  return out as unknown as CacheStorage
}

const isPromise = (x: unknown) => x instanceof Promise

runStorageSuite(
  { describe, test },
  {
    name: 'HybridCache (InMemCache + InMemCache, l1Ttl 10)',
    create: () => new HybridCache({ l1Cache: new InMemCache(), l2Cache: new InMemCache(), l1Ttl: 10 }),
    capabilities: { binary: true },
  },
)

runStorageSuite(
  { describe, test },
  {
    name: 'HybridCache (default L1 + async L2)',
    create: () => new HybridCache({ l2Cache: asyncStore() }),
    capabilities: { binary: true },
  },
)

describe('HybridCache', () => {
  useFakeClock(undefined, { doNotFake: ['setImmediate'] })
  const advance = (seconds: number) => jest.advanceTimersByTime(seconds * 1000)

  const make = (opts: { l1Ttl?: number | string; l2Ttl?: number | string } = {}) => {
    const l1 = new InMemCache()
    const l2 = new InMemCache()
    return { l1, l2, hybrid: new HybridCache({ l1Cache: l1, l2Cache: l2, ...opts }) }
  }

  test('defaults: l1Ttl 60 s, l2Ttl 2 × l1Ttl, an InMemCache as L1; it is a two-level ChainCache', () => {
    const h = new HybridCache({ l2Cache: new InMemCache() })
    expect([h.l1Ttl, h.l2Ttl]).toEqual([60, 120])
    expect(h.l1).toBeInstanceOf(InMemCache)
    expect(h.levels).toEqual([h.l1, h.l2])
    expect(h).toBeInstanceOf(ChainCache)
    expect(new HybridCache({ l2Cache: new InMemCache(), l1Ttl: '30s' }).l2Ttl).toBe(60)
    expect(new HybridCache({ l2Cache: new InMemCache(), l1Ttl: 5, l2Ttl: '1h' }).l2Ttl).toBe(3600)
  })

  test('set with ttl 0: L1 keeps it for l1Ttl, L2 for l2Ttl; freshUntil stays Infinity', () => {
    const { l1, l2, hybrid } = make({ l1Ttl: 10 })
    hybrid.set('k', 'v', 0)
    expect(l1.getEntry('k')?.freshUntil).toBe(Infinity)
    expect(l2.getEntry('k')?.freshUntil).toBe(Infinity)
    advance(10.01)
    expect(l1.exists('k')).toBe(false)
    expect(hybrid.get('k')).toBe('v') // from L2, promoted back into L1 for l1Ttl
    expect(l1.exists('k')).toBe(true)
    advance(10) // t0 + 20.01: past l2Ttl (20)
    expect(l2.exists('k')).toBe(false)
  })

  test('set with a ttl: L1 keeps it for min(ttl, l1Ttl), L2 for the ttl (not capped by l2Ttl)', () => {
    const { l1, l2, hybrid } = make({ l1Ttl: 10 })
    hybrid.set('k', 'v', 300)
    expect(l1.getEntry('k')?.freshUntil).toBe(t0 + 300)
    advance(10.01)
    expect(l1.exists('k')).toBe(false)
    advance(200) // well past l2Ttl (20)
    expect(l2.get('k')).toBe('v')
    hybrid.set('short', 'v', 3)
    advance(3.01)
    expect(l1.exists('short')).toBe(false)
    expect(l2.exists('short')).toBe(false)
  })

  test('an L2 hit is copied into L1 with its timestamps, for min(l1Ttl, freshUntil - now)', () => {
    const { l1, l2, hybrid } = make({ l1Ttl: 60 })
    l2.setEntry('k', { value: 'v', createdAt: t0 - 3, freshUntil: t0 + 7 }, 100)
    expect(hybrid.getEntry('k')).toMatchObject({ value: 'v', createdAt: t0 - 3, freshUntil: t0 + 7 })
    expect(l1.getEntry('k')).toMatchObject({ value: 'v', createdAt: t0 - 3, freshUntil: t0 + 7 })
    advance(7.01)
    expect(l1.exists('k')).toBe(false) // its remaining lifetime (7 s), not l1Ttl
    // stale in L2: served, not copied
    expect(hybrid.get('k')).toBe('v')
    expect(l1.exists('k')).toBe(false)
  })

  test('setIfNotExists is decided by L2, then L1 is written', () => {
    const { l1, l2, hybrid } = make()
    l2.set('lock', 'other-process', 30)
    expect(hybrid.setIfNotExists('lock', 'me', 30)).toBe(false)
    expect(l1.exists('lock')).toBe(false)
    l1.set('stale-copy', 'old', 0)
    expect(hybrid.setIfNotExists('stale-copy', 'new', 30)).toBe(true)
    expect([l1.get('stale-copy'), l2.get('stale-copy')]).toEqual(['new', 'new'])
  })

  test('setIfNotExists with ttl 0 keeps the L2 lock for l2Ttl', () => {
    const { l2, hybrid } = make({ l1Ttl: 1, l2Ttl: 5 })
    expect(hybrid.setIfNotExists('lock', 1, 0)).toBe(true)
    advance(5.01)
    expect(l2.exists('lock')).toBe(false)
    expect(hybrid.setIfNotExists('lock', 2, 0)).toBe(true)
  })

  test('delete and clear act on both levels', () => {
    const { l1, l2, hybrid } = make()
    hybrid.setMany(new Map([['a', 1], ['b', 2]]), 0)
    hybrid.delete('a')
    expect([l1.exists('a'), l2.exists('a')]).toEqual([false, false])
    hybrid.clear()
    expect([l1.exists('b'), l2.exists('b')]).toEqual([false, false])
  })

  test('two synchronous levels answer synchronously', () => {
    const { hybrid } = make()
    const results = [
      hybrid.set('k', 1, 0),
      hybrid.get('k'),
      hybrid.getEntry('nope'),
      hybrid.exists('k'),
      hybrid.getMany(['k']),
      hybrid.setMany({ a: 1 }, 5),
      hybrid.setIfNotExists('x', 1, 0),
      hybrid.delete('x'),
      hybrid.clear(),
    ]
    expect(results.filter(isPromise)).toEqual([])
  })

  test('an async L2 makes misses and writes asynchronous; L1 hits stay synchronous', async () => {
    jest.useRealTimers()
    const hybrid = new HybridCache({ l1Cache: InMemCache, l2Cache: () => asyncStore() })
    const write = hybrid.set('k', 'v', 0)
    expect(isPromise(write)).toBe(true)
    await write
    expect(hybrid.get('k')).toBe('v')
    const miss = hybrid.get('other')
    expect(isPromise(miss)).toBe(true)
    await miss
  })

  test('a failing L1 is reported and skipped; a failing L2 fails the call', async () => {
    const errors: string[] = []
    const l2 = new InMemCache()
    l2.set('k', 'v', 0)
    const h = new HybridCache({ l1Cache: failingStore(), l2Cache: l2, onError: (_e, info) => errors.push(`${info.cacheName}:${info.operation}:${info.level}`) })
    expect(await h.get('k')).toBe('v')
    await h.set('k2', 1, 0)
    expect(l2.get('k2')).toBe(1)
    expect(errors).toEqual(['HybridCache:getEntry:0', 'HybridCache:set:0'])
    const down = new HybridCache({ l1Cache: new InMemCache(), l2Cache: failingStore() })
    await expect(down.set('k', 1, 0)).rejects.toThrow('down (setEntry)')
    // the failed write left nothing in L1 (the deepest level is written first)
    expect(down.l1.exists('k')).toBe(false)
    await expect(down.get('k')).rejects.toThrow('down (getEntry)')
  })

  test('bad options throw TypeErrors naming the option', () => {
    expect(() => new HybridCache(undefined as never)).toThrow(TypeError)
    expect(() => new HybridCache({} as never)).toThrow(/"l2Cache" is required/)
    expect(() => new HybridCache({ l2Cache: 'redis' as never })).toThrow(/option "l2Cache"/)
    expect(() => new HybridCache({ l2Cache: new InMemCache(), l1Cache: {} as never })).toThrow(/option "l1Cache"/)
    expect(() => new HybridCache({ l2Cache: new InMemCache(), l1Ttl: 0 })).toThrow(/l1Ttl/)
    expect(() => new HybridCache({ l2Cache: new InMemCache(), l1Ttl: -1 })).toThrow(/l1Ttl/)
    expect(() => new HybridCache({ l2Cache: new InMemCache(), l2Ttl: 'soon' })).toThrow(/l2Ttl/)
    expect(() => new HybridCache({ l2Cache: new InMemCache(), l1ttl: 5 } as never)).toThrow(/l1ttl/)
  })
})

/** An in-process bus: every instance sees the others' messages, never its own. */
class LocalBus implements InvalidationBus {
  static readonly all = new Set<LocalBus>()
  readonly listeners = new Set<(m: InvalidationMessage) => void>()
  readonly sent: InvalidationMessage[] = []
  failNext = false
  constructor() {
    LocalBus.all.add(this)
  }
  publish(message: InvalidationMessage): Promise<void> {
    if (this.failNext) {
      this.failNext = false
      return Promise.reject(new Error('bus down'))
    }
    this.sent.push(message)
    for (const bus of LocalBus.all) if (bus !== this) for (const l of bus.listeners) l(message)
    return Promise.resolve()
  }
  subscribe(listener: (m: InvalidationMessage) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

describe('HybridCache with an invalidation bus', () => {
  afterEach(() => LocalBus.all.clear())

  /** Two "processes": their own L1 and bus, one shared L2. */
  const twoProcesses = () => {
    const l2 = asyncStoreOf(new InMemCache())
    const busA = new LocalBus()
    const busB = new LocalBus()
    const a = new HybridCache({ l2Cache: l2, bus: busA })
    const b = new HybridCache({ l2Cache: l2, bus: busB })
    return { l2, a, b, busA, busB }
  }

  test('a write, delete or clear in one process evicts the key from the other L1 only', async () => {
    const { a, b, busA } = twoProcesses()
    await a.set('k', 1, 60)
    await b.get('k') // promoted into B's L1
    expect(b.l1.get('k')).toBe(1)
    await a.set('k', 2, 60)
    expect(busA.sent).toEqual([{ keys: ['k'] }, { keys: ['k'] }])
    expect(b.l1.exists('k')).toBe(false) // evicted, not overwritten with the value
    expect(await b.get('k')).toBe(2)
    expect(a.l1.get('k')).toBe(2) // the writer's own L1 is untouched by its own message

    await a.delete('k')
    expect(b.l1.exists('k')).toBe(false)
    await b.set('x', 1, 60)
    await b.set('y', 1, 60)
    await a.get('x')
    await a.clear()
    expect(b.l1.exists('y')).toBe(false)
    await a.setMany({ m1: 1, m2: 2 }, 60)
    expect(busA.sent.at(-1)).toEqual({ keys: ['m1', 'm2'] })
    expect(await a.setIfNotExists('m1', 3, 60)).toBe(false)
    expect(busA.sent.at(-1)).toEqual({ keys: ['m1', 'm2'] }) // nothing stored, nothing published
    expect(await a.setIfNotExists('n', 3, 60)).toBe(true)
    expect(busA.sent.at(-1)).toEqual({ keys: ['n'] })
  })

  test('an L1 hit stays synchronous with a bus; a failed publish is reported, not thrown', async () => {
    const errors: string[] = []
    const bus = new LocalBus()
    const h = new HybridCache({ l2Cache: asyncStoreOf(new InMemCache()), bus, onError: (e, info) => errors.push(`${info.operation}:${(e as Error).message}`) })
    await h.set('k', 1, 60)
    expect(h.get('k')).toBe(1)
    bus.failNext = true
    await expect(h.set('k', 2, 60)).resolves.toBeUndefined()
    expect(errors).toEqual(['publish:bus down'])
    h.detach()
    expect(bus.listeners.size).toBe(0)
  })

  test('a read racing an invalidation does not promote the value it found', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const inner = new InMemCache()
    inner.set('k', 'old', 60)
    const slowL2 = asyncStoreOf(inner)
    const slow = { ...slowL2, getEntry: async (key: string) => { const e = await slowL2.getEntry(key); await gate; return e } }
    const bus = new LocalBus()
    const other = new LocalBus()
    const h = new HybridCache({ l2Cache: slow as CacheStorage, bus })
    const reading = h.get('k')
    await other.publish({ keys: ['k'] }) // another process changed k while the read was in flight
    release()
    expect(await reading).toBe('old') // served…
    expect(h.l1.exists('k')).toBe(false) // …but not kept in L1
  })

  test('tryLock is forwarded to L2 only when L2 can lock', async () => {
    const lock = { release: async () => undefined }
    const calls: Array<[string, number]> = []
    const locking = Object.assign(asyncStoreOf(new InMemCache()), {
      tryLock: async (key: string, timeout: number) => (calls.push([key, timeout]), lock),
    })
    const h = new HybridCache({ l2Cache: locking })
    expect(supportsLocking(h)).toBe(true)
    expect(await h.tryLock!('k', 5)).toBe(lock)
    expect(calls).toEqual([['k', 5]])
    expect(supportsLocking(new HybridCache({ l2Cache: new InMemCache() }))).toBe(false)
    expect(() => new HybridCache({ l2Cache: new InMemCache(), bus: {} as never })).toThrow(/option "bus"/)
  })
})
