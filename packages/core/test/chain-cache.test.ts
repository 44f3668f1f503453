import { runStorageSuite } from '@acache/storage-test-suite'
import { ChainCache, type ChainErrorInfo } from '../src/chain-cache.js'
import { resolveStore, STORAGE_METHODS as METHODS, supportsLocking, validateCacheStorage } from '../src/store-resolution.js'
import { asyncStore as asyncStoreOf } from './support/async-store.js'
import { T0, useFakeClock } from './support/fake-clock.js'
import { InMemCache } from '../src/in-mem-cache.js'
import type { CacheEntry, CacheStorage } from '../src/types.js'

const t0 = T0 / 1000

const asyncStore = (inner: CacheStorage = new InMemCache()) => asyncStoreOf(inner, { defer: 'immediate' })

/** Keys under a prefix over a shared Map backend, so two namespaces can share "a server". */
class PrefixedMapStore implements CacheStorage {
  constructor(
    readonly backend: Map<string, { e: CacheEntry; exp: number }> = new Map(),
    readonly prefix = 'p1:',
  ) {}
  private live(key: string) {
    const it = this.backend.get(this.prefix + key)
    if (it && Date.now() / 1000 >= it.exp) {
      this.backend.delete(this.prefix + key)
      return undefined
    }
    return it
  }
  get = (k: string) => this.live(k)?.e.value
  set = (k: string, v: unknown, ttl: number) => {
    const now = Date.now() / 1000
    this.setEntry(k, { value: v, createdAt: now, freshUntil: ttl > 0 ? now + ttl : Infinity }, ttl)
  }
  delete = (k: string) => void this.backend.delete(this.prefix + k)
  exists = (k: string) => this.live(k) !== undefined
  getEntry = (k: string) => {
    const it = this.live(k)
    return it && { ...it.e }
  }
  setEntry = (k: string, e: CacheEntry, ttl?: number) => {
    if (e.value === undefined) throw new TypeError('undefined')
    const now = Date.now() / 1000
    const exp = ttl === undefined ? e.freshUntil : ttl > 0 ? now + ttl : Infinity
    this.backend.set(this.prefix + k, { e: { ...e }, exp })
  }
  setIfNotExists = (k: string, v: unknown, ttl: number) => {
    if (this.live(k)) return false
    this.set(k, v, ttl)
    return true
  }
  getMany = (ks: string[]) => {
    const m = new Map<string, unknown>()
    for (const k of ks) {
      const it = this.live(k)
      if (it) m.set(k, it.e.value)
    }
    return m
  }
  setMany = (items: Map<string, unknown> | Record<string, unknown>, ttl: number) => {
    for (const [k, v] of items instanceof Map ? items : Object.entries(items)) this.set(k, v, ttl)
  }
  clear = () => {
    for (const k of [...this.backend.keys()]) if (k.startsWith(this.prefix)) this.backend.delete(k)
  }
}

/** A store whose every method fails (synchronously, or by rejecting). */
function failingStore(mode: 'throw' | 'reject'): CacheStorage & { calls: jest.Mock } {
  const calls = jest.fn()
  const out: Record<string, unknown> = { calls }
  for (const m of METHODS) {
    out[m] = (...args: unknown[]) => {
      calls(m, ...args)
      const error = new Error(`level down (${m})`)
      if (mode === 'throw') throw error
      return Promise.reject(error)
    }
  }
  return out as unknown as CacheStorage & { calls: jest.Mock }
}

const isPromise = (x: unknown) => x instanceof Promise

// ------------------------------------------------------------------------------------------------
// Conformance (real time: the suite waits for expiry itself)
// ------------------------------------------------------------------------------------------------

runStorageSuite(
  { describe, test },
  {
    name: 'ChainCache (3 sync InMemCache levels, caps [10, 30])',
    create: () => ChainCache.build(new InMemCache(), new InMemCache(), new InMemCache(), { ttls: [10, 30] }),
    capabilities: { binary: true },
  },
)

runStorageSuite(
  { describe, test },
  {
    name: 'ChainCache (InMemCache → async store)',
    create: () => ChainCache.build(new InMemCache(), asyncStore(), { ttls: [5] }),
    capabilities: { binary: true },
  },
)

runStorageSuite(
  { describe, test },
  {
    name: 'ChainCache (async → async prefixed store, with a sibling namespace)',
    create: () => ChainCache.build(asyncStore(), asyncStore(new PrefixedMapStore(new Map(), 'one:'))),
    createSibling: (store) => {
      const deep = (store.levels[1] as ReturnType<typeof asyncStore>).inner as PrefixedMapStore
      return ChainCache.build(asyncStore(), asyncStore(new PrefixedMapStore(deep.backend, 'two:')))
    },
    capabilities: { binary: true },
  },
)

// ------------------------------------------------------------------------------------------------
// Specific behaviour (fake clock)
// ------------------------------------------------------------------------------------------------

describe('ChainCache', () => {
  useFakeClock(undefined, { doNotFake: ['setImmediate'] })
  const advance = (seconds: number) => jest.advanceTimersByTime(seconds * 1000)

  describe('read-through with promotion', () => {
    test('a hit at a lower level is promoted into every level above with its original timestamps', () => {
      const [l0, l1, l2] = [new InMemCache(), new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1, l2)
      l2.setEntry('k', { value: 'v', createdAt: t0 - 5.25, freshUntil: t0 + 25.5 }, 100)
      expect(chain.get('k')).toBe('v')
      for (const level of [l0, l1]) {
        const e = level.getEntry('k')!
        expect([e.value, e.createdAt, e.freshUntil]).toEqual(['v', t0 - 5.25, t0 + 25.5])
      }
    })

    test('the promoted copy lives for min(level cap, remaining fresh lifetime)', () => {
      const [l0, l1, l2] = [new InMemCache(), new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1, l2, { ttls: [10, 60] })
      l2.setEntry('k', { value: 'v', createdAt: t0, freshUntil: t0 + 30 }, 300)
      expect((chain.getEntry('k') as CacheEntry).value).toBe('v')
      advance(9.9)
      expect(l0.get('k')).toBe('v')
      advance(0.2) // past l0's cap (10 s)
      expect(l0.get('k')).toBeUndefined()
      expect(l1.get('k')).toBe('v') // l1: min(60, 30) = 30 s
      advance(20) // t0 + 30.1: past freshUntil
      expect(l1.get('k')).toBeUndefined()
      expect(l2.getEntry('k')?.value).toBe('v') // stale in the deepest level, still physically there
    })

    test('a stale entry is served through every tier but not promoted', () => {
      const [l0, l1, l2] = [new InMemCache(), new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1, l2)
      l2.setEntry('k', { value: 'old', createdAt: t0 - 100, freshUntil: t0 - 40 }, 60)
      const e = chain.getEntry('k')
      expect(e).toMatchObject({ value: 'old', createdAt: t0 - 100, freshUntil: t0 - 40 })
      expect(chain.get('k')).toBe('old')
      expect(l0.exists('k')).toBe(false)
      expect(l1.exists('k')).toBe(false)
    })

    test('an entry that turns stale exactly at now (now >= freshUntil) is not promoted', () => {
      const [l0, l1] = [new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1)
      l1.setEntry('k', { value: 'v', createdAt: t0 - 10, freshUntil: t0 }, 60)
      expect(chain.get('k')).toBe('v')
      expect(l0.exists('k')).toBe(false)
    })

    test('an entry without expiry is promoted without expiry when the level has no cap, else for the cap', () => {
      const [l0, l1, l2] = [new InMemCache(), new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1, l2, { ttls: [undefined, 5] })
      l2.set('k', 'v', 0)
      expect(chain.get('k')).toBe('v')
      advance(3600)
      expect(l0.get('k')).toBe('v')
      expect(l1.get('k')).toBeUndefined()
      expect(l0.getEntry('k')?.freshUntil).toBe(Infinity)
    })

    test('an upper-level hit does not touch lower levels', () => {
      const l1 = new InMemCache()
      const spy = jest.spyOn(l1, 'getEntry')
      const chain = ChainCache.build(new InMemCache(), l1)
      chain.set('k', 1, 0)
      expect(chain.get('k')).toBe(1)
      expect(spy).not.toHaveBeenCalled()
    })

    test('exists looks through the levels', () => {
      const [l0, l1] = [new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1)
      l1.set('deep', 1, 0)
      expect(chain.exists('deep')).toBe(true)
      expect(chain.exists('nowhere')).toBe(false)
    })
  })

  describe('write-through with per-level TTL caps', () => {
    test('set writes every level with the same timestamps, each level kept for min(ttl, cap)', () => {
      const [l0, l1, l2] = [new InMemCache(), new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1, l2, { ttls: [5, 50] })
      chain.set('k', 'v', 100)
      const entries = [l0, l1, l2].map((l) => l.getEntry('k')!)
      for (const e of entries) expect([e.createdAt, e.freshUntil]).toEqual([t0, t0 + 100])
      advance(5.01)
      expect([l0, l1, l2].map((l) => l.exists('k'))).toEqual([false, true, true])
      expect(chain.get('k')).toBe('v') // from l1, promoted again into l0 for min(5, 94.99)
      expect(l0.getEntry('k')?.createdAt).toBe(t0)
      advance(45)
      expect([l1, l2].map((l) => l.exists('k'))).toEqual([false, true])
      advance(50)
      expect(chain.get('k')).toBeUndefined()
    })

    test('ttl 0 (no expiry) is stored for the level cap where there is one, for ever below', () => {
      const [l0, l1] = [new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1, { ttls: ['5s'] })
      chain.set('k', 'v', 0)
      expect(l0.getEntry('k')?.freshUntil).toBe(Infinity)
      advance(5.01)
      expect(l0.exists('k')).toBe(false)
      advance(1e6)
      expect(l1.get('k')).toBe('v')
      expect((chain.getEntry('k') as CacheEntry).freshUntil).toBe(Infinity)
    })

    test('setMany applies the caps per level and keeps one freshUntil', () => {
      const [l0, l1] = [new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1, { ttls: [2] })
      chain.setMany({ a: 1, b: 2 }, 10)
      expect(l0.getEntry('a')?.freshUntil).toBe(t0 + 10)
      expect(l1.getEntry('b')?.freshUntil).toBe(t0 + 10)
      advance(2.5)
      expect(l0.getMany(['a', 'b']).size).toBe(0)
      expect(chain.getMany(['a', 'b'])).toEqual(new Map([['a', 1], ['b', 2]]))
      advance(8)
      expect((chain.getMany(['a', 'b']) as Map<string, unknown>).size).toBe(0)
    })

    test('setEntry keeps the given timestamps on every level and caps the physical TTL', () => {
      const [l0, l1] = [new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1, { ttls: [3] })
      chain.setEntry('k', { value: 'v', createdAt: t0 - 1, freshUntil: t0 + 10 }, 40) // engine: ttl + stale
      advance(3.01)
      expect(l0.exists('k')).toBe(false)
      advance(30) // stale now, but l1 keeps it for its physical 40 s
      expect(chain.getEntry('k')).toMatchObject({ value: 'v', createdAt: t0 - 1, freshUntil: t0 + 10 })
      expect(l0.exists('k')).toBe(false) // stale: not promoted
    })

    test('set(key, undefined) throws a TypeError and writes nothing', () => {
      const l0 = new InMemCache()
      const chain = ChainCache.build(l0, new InMemCache())
      expect(() => chain.set('k', undefined, 0)).toThrow(TypeError)
      expect(() => chain.setMany({ a: undefined }, 0)).toThrow(TypeError)
      expect(() => chain.set('k', 1, -1)).toThrow(TypeError)
      expect(l0.exists('k')).toBe(false)
    })

    test('delete and clear act on every level', () => {
      const [l0, l1] = [new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1)
      chain.setMany({ a: 1, b: 2 }, 0)
      chain.delete('a')
      expect([l0.exists('a'), l1.exists('a')]).toEqual([false, false])
      chain.clear()
      expect([l0.exists('b'), l1.exists('b')]).toEqual([false, false])
    })
  })

  describe('setIfNotExists is decided by the deepest level', () => {
    test('a key present only in the deepest level blocks it; upper levels are left alone', () => {
      const [l0, l1] = [new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1)
      l1.set('lock', 'theirs', 0)
      expect(chain.setIfNotExists('lock', 'mine', 0)).toBe(false)
      expect(l0.exists('lock')).toBe(false)
      expect(chain.get('lock')).toBe('theirs')
    })

    test('a copy only in an upper level does not block it; when it stores, upper levels get the value', () => {
      const [l0, l1] = [new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1, { ttls: [5] })
      l0.set('lock', 'leftover', 0)
      expect(chain.setIfNotExists('lock', 'mine', 30)).toBe(true)
      expect(l0.get('lock')).toBe('mine')
      expect(l1.get('lock')).toBe('mine')
      expect(l0.getEntry('lock')?.freshUntil).toBe(t0 + 30)
      advance(5.01)
      expect(l0.exists('lock')).toBe(false) // capped
      expect(l1.exists('lock')).toBe(true)
    })

    test('50 concurrent callers through an async deepest level: exactly one wins', async () => {
      jest.useRealTimers()
      const chain = ChainCache.build(new InMemCache(), asyncStore())
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => chain.setIfNotExists('race', i, 0)))
      expect(results.filter(Boolean)).toHaveLength(1)
      expect(await chain.get('race')).toBe(results.indexOf(true))
    })
  })

  describe('getMany', () => {
    test('fills from the top, asks lower levels only for the missing keys, promotes with timestamps', () => {
      const [l0, l1, l2] = [new InMemCache(), new InMemCache(), new InMemCache()]
      const chain = ChainCache.build(l0, l1, l2)
      l0.set('a', 'A0', 0)
      l1.setEntry('b', { value: 'B1', createdAt: t0 - 1, freshUntil: t0 + 9 }, 20)
      l2.setEntry('c', { value: 'C2', createdAt: t0 - 2, freshUntil: t0 + 8 }, 20)
      l2.setEntry('s', { value: 'S2', createdAt: t0 - 50, freshUntil: t0 - 1 }, 20) // stale
      const l1Spy = jest.spyOn(l1, 'getEntry')
      const l2Spy = jest.spyOn(l2, 'getEntry')
      const got = chain.getMany(['c', 'missing', 'a', 'b', 's', 'a'])
      expect(isPromise(got)).toBe(false)
      expect([...(got as Map<string, unknown>)]).toEqual([['c', 'C2'], ['a', 'A0'], ['b', 'B1'], ['s', 'S2']])
      expect(l1Spy.mock.calls.map((c) => c[0]).sort()).toEqual(['b', 'c', 'missing', 's'])
      expect(l2Spy.mock.calls.map((c) => c[0]).sort()).toEqual(['c', 'missing', 's'])
      expect(l0.getEntry('b')).toMatchObject({ value: 'B1', createdAt: t0 - 1, freshUntil: t0 + 9 })
      expect(l0.getEntry('c')).toMatchObject({ value: 'C2', createdAt: t0 - 2, freshUntil: t0 + 8 })
      expect(l1.getEntry('c')).toMatchObject({ value: 'C2', createdAt: t0 - 2, freshUntil: t0 + 8 })
      expect(l0.exists('s')).toBe(false)
      expect(l1.exists('s')).toBe(false)
    })

    test('an empty key list answers an empty Map without asking any level', () => {
      const l0 = new InMemCache()
      const spy = jest.spyOn(l0, 'getMany')
      expect(ChainCache.build(l0).getMany([])).toEqual(new Map())
      expect(spy).not.toHaveBeenCalled()
    })
  })

  describe('sync stays sync, async when a level is', () => {
    test('an all-synchronous chain never returns a promise', () => {
      const chain = ChainCache.build(new InMemCache(), new InMemCache(), { ttls: [10] })
      const results: unknown[] = [
        chain.set('k', 1, 10),
        chain.get('k'),
        chain.get('missing'),
        chain.getEntry('k'),
        chain.exists('k'),
        chain.setEntry('e', { value: 2, createdAt: t0, freshUntil: t0 + 5 }),
        chain.setMany({ a: 1 }, 0),
        chain.getMany(['a', 'k', 'zz']),
        chain.setIfNotExists('n', 1, 0),
        chain.delete('k'),
        chain.clear(),
      ]
      expect(results.filter(isPromise)).toEqual([])
      expect(results[1]).toBe(1)
    })

    test('with an async level: misses and writes return promises; an L1 hit is answered synchronously', async () => {
      jest.useRealTimers()
      const chain = ChainCache.build(new InMemCache(), asyncStore())
      const setting = chain.set('k', 'v', 0)
      expect(isPromise(setting)).toBe(true)
      await setting
      const hit = chain.get('k')
      expect(isPromise(hit)).toBe(false)
      expect(hit).toBe('v')
      const miss = chain.get('missing')
      expect(isPromise(miss)).toBe(true)
      expect(await miss).toBeUndefined()
      expect(isPromise(chain.setIfNotExists('x', 1, 0))).toBe(true)
      expect(isPromise(chain.clear())).toBe(true)
    })

    test('an async deepest level promotes into the sync level (the promotion is awaited)', async () => {
      jest.useRealTimers()
      const l0 = new InMemCache()
      const deep = asyncStore()
      const chain = ChainCache.build(l0, deep)
      await deep.set('k', 'v', 60)
      expect(await chain.get('k')).toBe('v')
      expect(l0.get('k')).toBe('v')
    })
  })

  describe('a failing level', () => {
    for (const mode of ['throw', 'reject'] as const) {
      test(`an upper level that fails (${mode}) is reported and skipped: reads fall through, writes go on`, async () => {
        const bad = failingStore(mode)
        const deep = new InMemCache()
        const errors: Array<[unknown, ChainErrorInfo]> = []
        const chain = ChainCache.build(bad, deep, { onError: (e, info) => errors.push([e, info]), name: 'tiers' })
        deep.set('k', 'v', 0)
        expect(await chain.get('k')).toBe('v')
        expect(errors[0][1]).toEqual({ cacheName: 'tiers', key: 'k', operation: 'getEntry', level: 0 })
        expect((errors[0][0] as Error).message).toBe('level down (getEntry)')
        await chain.set('k2', 'v2', 0)
        expect(deep.get('k2')).toBe('v2')
        expect(errors.map(([, i]) => i.operation)).toEqual(['getEntry', 'set'])
        expect(await chain.exists('k2')).toBe(true)
        expect(await chain.getMany(['k', 'k2'])).toEqual(new Map([['k', 'v'], ['k2', 'v2']]))
        expect(await chain.setIfNotExists('n', 1, 0)).toBe(true)
        await chain.delete('k')
        await chain.clear()
        expect(deep.exists('k2')).toBe(false)
        expect(errors.every(([, i]) => i.level === 0)).toBe(true)
      })

      test(`a deepest level that fails (${mode}) fails the call`, async () => {
        const chain = ChainCache.build(new InMemCache(), failingStore(mode), { onError: () => {} })
        const call = async (f: () => unknown) => f()
        await expect(call(() => chain.get('k'))).rejects.toThrow('level down (getEntry)')
        await expect(call(() => chain.set('k', 1, 0))).rejects.toThrow('level down (setEntry)')
        await expect(call(() => chain.setIfNotExists('k', 1, 0))).rejects.toThrow('level down (setIfNotExists)')
        await expect(call(() => chain.delete('k'))).rejects.toThrow('level down (delete)')
        await expect(call(() => chain.getMany(['a']))).rejects.toThrow('level down (getEntry)')
      })
    }

    test('a failing upper level does not receive promotions of the key it failed to read', async () => {
      const bad = failingStore('throw')
      const deep = new InMemCache()
      deep.set('k', 'v', 60)
      const chain = ChainCache.build(bad, deep, { onError: () => {} })
      expect(chain.get('k')).toBe('v')
      expect(bad.calls.mock.calls.map((c) => c[0])).toEqual(['getEntry'])
    })

    test('without onError, console.warn is called at most once per level per minute', () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
      const chain = ChainCache.build(failingStore('throw'), new InMemCache())
      chain.get('a')
      chain.get('b')
      chain.set('c', 1, 0)
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0][0])).toContain('ChainCache level 0 failed (getEntry "a")')
      advance(61)
      chain.get('d')
      expect(warn).toHaveBeenCalledTimes(2)
    })

    test('a throwing onError is contained', () => {
      const chain = ChainCache.build(failingStore('throw'), new InMemCache(), {
        onError: () => {
          throw new Error('handler bug')
        },
      })
      expect(chain.get('k')).toBeUndefined()
    })
  })

  describe('construction', () => {
    test('stores may be instances, classes (constructed once) or factories (called once)', () => {
      class MyStore extends InMemCache {}
      const factory = jest.fn(() => new InMemCache())
      const instance = new InMemCache()
      const chain = ChainCache.build(MyStore, factory, instance)
      expect(chain.levels[0]).toBeInstanceOf(MyStore)
      expect(factory).toHaveBeenCalledTimes(1)
      expect(chain.levels[2]).toBe(instance)
    })

    test('levels is read-only', () => {
      const chain = ChainCache.build(new InMemCache())
      expect(Object.isFrozen(chain.levels)).toBe(true)
      expect(() => (chain.levels as CacheStorage[]).push(new InMemCache())).toThrow(TypeError)
    })

    test('the options object is recognised as the last argument; without it there are no caps', () => {
      expect(ChainCache.build(new InMemCache(), new InMemCache(), { ttls: [1, '2m'] }).ttls).toEqual([1, 120])
      const plain = ChainCache.build(new InMemCache(), new InMemCache())
      expect(plain.levels).toHaveLength(2)
      expect(plain.ttls).toEqual([0, 0])
    })

    test('bad stores and options throw TypeErrors naming them', () => {
      expect(() => ChainCache.build()).toThrow(/at least one store/)
      expect(() => ChainCache.build(new InMemCache(), { get() {} } as never, {})).toThrow(/stores\[1\]/)
      expect(() => ChainCache.build(new InMemCache(), 42 as never)).toThrow(/stores\[1\]/)
      expect(() => ChainCache.build(new InMemCache(), { ttls: [-1] })).toThrow(/ttls\[0\]/)
      expect(() => ChainCache.build(new InMemCache(), { ttls: ['5 parsecs'] })).toThrow(/ttls\[0\]/)
      expect(() => ChainCache.build(new InMemCache(), { ttls: [1, 2] })).toThrow(/2 entries for 1 levels/)
      expect(() => ChainCache.build(new InMemCache(), { ttl: [1] } as never)).toThrow(TypeError)
    })

    test('a chain is itself a CacheStorage and can be nested', () => {
      const inner = ChainCache.build(new InMemCache(), new InMemCache())
      expect(validateCacheStorage(inner)).toBe(true)
      const outer = ChainCache.build(new InMemCache(), inner)
      outer.set('k', 1, 0)
      expect(inner.get('k')).toBe(1)
    })
  })
})

describe('store resolution', () => {
  test('validateCacheStorage is true only when every protocol method is a function', () => {
    expect(validateCacheStorage(new InMemCache())).toBe(true)
    expect(validateCacheStorage({ get() {} })).toBe(false)
    expect(validateCacheStorage(null)).toBe(false)
    expect(validateCacheStorage(InMemCache)).toBe(false)
    const almost = Object.fromEntries(METHODS.map((m) => [m, () => undefined])) as Record<string, unknown>
    expect(validateCacheStorage(almost)).toBe(true)
    almost.clear = 1
    expect(validateCacheStorage(almost)).toBe(false)
  })

  test('classes are constructed with new (prototype get, or class syntax), other functions are called', () => {
    class NoProtoMethods {
      constructor() {
        Object.assign(this, Object.fromEntries(METHODS.map((m) => [m, () => undefined])))
      }
    }
    function LegacyStore(this: Record<string, unknown>) {}
    for (const m of METHODS) (LegacyStore.prototype as Record<string, unknown>)[m] = () => undefined
    expect(resolveStore(InMemCache, 'store')).toBeInstanceOf(InMemCache)
    expect(resolveStore(NoProtoMethods, 'store')).toBeInstanceOf(NoProtoMethods)
    expect(resolveStore(LegacyStore, 'store')).toBeInstanceOf(LegacyStore)
    const made = new InMemCache()
    expect(resolveStore(() => made, 'store')).toBe(made)
    expect(resolveStore(function makeStore() { return made }, 'store')).toBe(made)
  })

  test('a result that is not a store throws a TypeError naming the option and what is missing', () => {
    expect(() => resolveStore(42, 'l2Cache')).toThrow(/option "l2Cache" must be a CacheStorage/)
    expect(() => resolveStore(() => ({ get() {} }), 'l1Cache')).toThrow(/l1Cache.*missing set, delete/)
    expect(() => resolveStore(async () => new InMemCache(), 'store')).toThrow(/returned a Promise/)
    class Needy {
      get() {}
      constructor() {
        throw new Error('needs a client')
      }
    }
    expect(() => resolveStore(Needy, 'store')).toThrow(/option "store": creating the store failed.*needs a client/)
  })
})

describe('ChainCache locking', () => {
  test('tryLock is forwarded to the deepest level, and absent when it cannot lock', async () => {
    const lock = { release: async () => undefined }
    const seen: Array<[string, number]> = []
    const deepest = Object.assign(new InMemCache(), {
      tryLock: async (key: string, timeout: number) => (seen.push([key, timeout]), lock),
    })
    const chain = ChainCache.build(new InMemCache(), deepest)
    expect(supportsLocking(chain)).toBe(true)
    expect(await chain.tryLock!('k', 3)).toBe(lock)
    expect(seen).toEqual([['k', 3]])
    // a lock in an upper level only does not count: the deepest level is the shared one
    const upperOnly = ChainCache.build(deepest, new InMemCache())
    expect(supportsLocking(upperOnly)).toBe(false)
    expect('tryLock' in upperOnly).toBe(false)
  })
})
