import { createCache, InMemCache, InMemoryMetrics } from '../src/index.js'
import { asyncStore } from './support/async-store.js'
import { advance, T0, useFakeClock } from './support/fake-clock.js'

useFakeClock()

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const silent = { warn: () => {} }

describe('getOrSet', () => {
  test('concurrent getOrSet of one key runs the loader once; everyone gets its value', async () => {
    const c = createCache<{ n: number }>({ ttl: 60 })
    let calls = 0
    const loader = async () => {
      calls++
      await sleep(20)
      return { n: calls }
    }
    const all = Promise.all(Array.from({ length: 50 }, () => c.getOrSet('report', loader)))
    await advance(0.02)
    const results = await all
    expect(calls).toBe(1)
    expect(new Set(results).size).toBe(1)
    expect(results[0]).toEqual({ n: 1 })
    expect(await c.getOrSet('report', loader)).toBe(results[0])
    expect(calls).toBe(1)
  })

  test('the loader gets the key; a hit within the TTL skips it; after the TTL it runs again', async () => {
    const c = createCache({ ttl: '1m' })
    const loader = jest.fn(async (key: string) => `${key}@${Date.now() - T0}`)
    expect(await c.getOrSet('a', loader)).toBe('a@0')
    await advance(59.9)
    expect(await c.getOrSet('a', loader)).toBe('a@0')
    await advance(0.1)
    expect(await c.getOrSet('a', loader)).toBe('a@60000')
    expect(loader).toHaveBeenCalledTimes(2)
  })

  test('per-call ttl overrides the default', async () => {
    const c = createCache({ ttl: 60 })
    const loader = jest.fn(async () => Date.now() - T0)
    expect(await c.getOrSet('short', loader, { ttl: 5 })).toBe(0)
    await advance(4.9)
    expect(await c.getOrSet('short', loader, { ttl: 5 })).toBe(0)
    await advance(0.1)
    expect(await c.getOrSet('short', loader, { ttl: 5 })).toBe(5000)
    expect(loader).toHaveBeenCalledTimes(2)
  })

  test('SWR: a stale value is returned at once while one background refresh runs', async () => {
    const c = createCache<string>({ ttl: 10, stale: 30, logger: silent })
    let calls = 0
    const loader = async () => {
      calls++
      await sleep(100)
      return `v${calls}`
    }
    const first = c.getOrSet('k', loader)
    await advance(0.1)
    expect(await first).toBe('v1')
    await advance(15) // stale now
    expect(await c.getOrSet('k', loader)).toBe('v1')
    expect(await c.getOrSet('k', loader)).toBe('v1') // the refresh is already running: no second one
    expect(calls).toBe(2)
    await advance(0.1)
    expect(await c.getOrSet('k', loader)).toBe('v2')
    expect(calls).toBe(2)
    // Dead after ttl + stale: the caller waits for the load.
    await advance(40.1)
    const dead = c.getOrSet('k', loader)
    await advance(0.1)
    expect(await dead).toBe('v3')
    expect(calls).toBe(3)
  })

  test('per-call stale: SWR for one call site only', async () => {
    const c = createCache<number>({ ttl: 10 })
    let calls = 0
    const loader = async () => ++calls
    expect(await c.getOrSet('k', loader, { stale: 20 })).toBe(1)
    await advance(15)
    expect(await c.getOrSet('k', loader, { stale: 20 })).toBe(1) // stale, refresh started
    await advance(0)
    expect(calls).toBe(2)
    expect(await c.getOrSet('k', loader, { stale: 20 })).toBe(2)
  })

  test('errors reach every concurrent caller and are never cached', async () => {
    const c = createCache({ ttl: 60 })
    let calls = 0
    const loader = async () => {
      calls++
      await sleep(10)
      if (calls === 1) throw new Error('upstream down')
      return 'ok'
    }
    const settled = Promise.allSettled([c.getOrSet('k', loader), c.getOrSet('k', loader)])
    await advance(0.01)
    const results = await settled
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect((results[0] as PromiseRejectedResult).reason).toBe((results[1] as PromiseRejectedResult).reason)
    const next = c.getOrSet('k', loader)
    await advance(0.01)
    expect(await next).toBe('ok')
    expect(calls).toBe(2)
  })

  test('a synchronous loader on a synchronous store answers synchronously', () => {
    const c = createCache<{ env: string }>({ ttl: 60 })
    const loader = jest.fn((key: string) => ({ env: key }))
    const a = c.getOrSet('prod', loader)
    expect(a).toEqual({ env: 'prod' })
    expect(a).not.toBeInstanceOf(Promise)
    expect(c.getOrSet('prod', loader)).toBe(a)
    expect(c.get('prod')).toBe(a)
    expect(loader).toHaveBeenCalledTimes(1)
  })

  test('with an async store', async () => {
    const store = asyncStore()
    const c = createCache({ ttl: 60, store })
    const loader = jest.fn(async () => 'v')
    const all = Promise.all([c.getOrSet('k', loader), c.getOrSet('k', loader)])
    expect(await all).toEqual(['v', 'v'])
    expect(await c.getOrSet('k', loader)).toBe('v')
    expect(loader).toHaveBeenCalledTimes(1)
    expect(await store.get('k')).toBe('v')
    expect(c.get('k')).toBeInstanceOf(Promise)
    expect(c.getMetrics()).toEqual({ hits: 1, misses: 2, size: undefined, hitRate: 1 / 3 })
  })

  test('undefined is not cached; null only with cacheNull', async () => {
    for (const cacheNull of [false, true]) {
      const c = createCache({ ttl: 60, cacheNull })
      const undef = jest.fn(async () => undefined)
      const nul = jest.fn(async () => null)
      await c.getOrSet('u', undef)
      await c.getOrSet('u', undef)
      await c.getOrSet('n', nul)
      await c.getOrSet('n', nul)
      expect(undef).toHaveBeenCalledTimes(2)
      expect(nul).toHaveBeenCalledTimes(cacheNull ? 1 : 2)
    }
  })

  test('ttl <= 0 bypasses: the loader always runs, nothing is stored, each call is a miss', async () => {
    const c = createCache({ ttl: 0 })
    const loader = jest.fn(async () => 1)
    await c.getOrSet('k', loader)
    await c.getOrSet('k', loader)
    await c.getOrSet('k', loader, { ttl: 0 })
    expect(loader).toHaveBeenCalledTimes(3)
    expect((c.store as InMemCache).size).toBe(0)
    expect(c.getMetrics()).toMatchObject({ hits: 0, misses: 3 })
  })
})

describe('get, set, delete, clear', () => {
  test('get returns fresh and stale values, undefined when absent or dead', async () => {
    const c = createCache({ ttl: 10, stale: 5 })
    expect(c.get('k')).toBeUndefined()
    c.set('k', 'v')
    expect(c.get('k')).toBe('v')
    await advance(12) // stale
    expect(c.get('k')).toBe('v')
    await advance(3.1) // dead
    expect(c.get('k')).toBeUndefined()
  })

  test('set with a per-call ttl; set replaces; delete removes', async () => {
    const c = createCache<number>({ ttl: 60 })
    c.set('a', 1, { ttl: 2 })
    c.set('b', 2)
    c.set('b', 3)
    expect(c.get('b')).toBe(3)
    await advance(1.99)
    expect(c.get('a')).toBe(1)
    await advance(0.02)
    expect(c.get('a')).toBeUndefined()
    expect(c.get('b')).toBe(3)
    c.delete('b')
    expect(c.get('b')).toBeUndefined()
    // A value set is what getOrSet then finds.
    c.set('c', 7)
    const loader = jest.fn(async () => 0)
    expect(await c.getOrSet('c', loader)).toBe(7)
    expect(loader).not.toHaveBeenCalled()
  })

  test('set rejects undefined, and null without cacheNull', () => {
    const c = createCache({ ttl: 60, name: 'things' })
    expect(() => c.set('k', undefined)).toThrow(new TypeError('things.set(): cannot store undefined (key "k"); use delete()'))
    expect(() => c.set('k', null)).toThrow('things.set(): null is stored only with the "cacheNull" option (key "k")')
    const withNull = createCache({ ttl: 60, cacheNull: true })
    withNull.set('k', null)
    expect(withNull.get('k')).toBeNull()
    expect(withNull.getMetrics().hits).toBe(1)
  })

  test('delete during a running load: its callers get the value, the store does not', async () => {
    const c = createCache({ ttl: 60 })
    let calls = 0
    const loader = async () => {
      calls++
      await sleep(50)
      return `v${calls}`
    }
    const first = c.getOrSet('k', loader)
    await advance(0.01)
    c.delete('k')
    await advance(0.05)
    expect(await first).toBe('v1')
    expect(c.get('k')).toBeUndefined()
    const second = c.getOrSet('k', loader)
    await advance(0.05)
    expect(await second).toBe('v2')
    expect(c.get('k')).toBe('v2')
  })

  test('clear removes everything, with async stores too', async () => {
    const sync = createCache({ ttl: 60 })
    sync.set('a', 1)
    sync.set('b', 2)
    await sync.getOrSet('c', async () => 3, { ttl: 5 })
    sync.clear()
    expect([sync.get('a'), sync.get('b'), sync.get('c')]).toEqual([undefined, undefined, undefined])
    const remote = createCache({ ttl: 60, store: asyncStore() })
    await remote.set('a', 1)
    await remote.clear()
    expect(await remote.get('a')).toBeUndefined()
  })
})

describe('warmup', () => {
  test('loads absent keys concurrently, skips present ones, reports failures', async () => {
    const c = createCache<string>({ ttl: 60 })
    c.set('present', 'already')
    let running = 0
    let maxRunning = 0
    const slow = (value: string) =>
      jest.fn(async () => {
        running++
        maxRunning = Math.max(maxRunning, running)
        await sleep(100)
        running--
        return value
      })
    const loaders = {
      a: slow('A'),
      present: slow('never'),
      b: slow('B'),
      broken: jest.fn(async (): Promise<string> => {
        throw new Error('no such thing')
      }),
    }
    const done = c.warmup(loaders)
    await advance(0.1)
    const result = await done
    expect(result.loaded).toEqual(['a', 'b'])
    expect(result.skipped).toEqual(['present'])
    expect(result.failed.map((f) => [f.key, (f.error as Error).message])).toEqual([['broken', 'no such thing']])
    expect(maxRunning).toBe(2) // a and b ran at the same time
    expect(loaders.present).not.toHaveBeenCalled()
    expect(loaders.a).toHaveBeenCalledWith('a')
    expect([c.get('a'), c.get('b'), c.get('present'), c.get('broken')]).toEqual(['A', 'B', 'already', undefined])
    // Warming does not count as traffic: only the four get() calls above did.
    expect(c.getMetrics()).toMatchObject({ hits: 3, misses: 1 })
  })

  test('a key already loading through getOrSet is joined, not loaded twice', async () => {
    const c = createCache<string>({ ttl: 60 })
    const loader = jest.fn(async (key: string) => {
      await sleep(50)
      return key.toUpperCase()
    })
    const pending = c.getOrSet('k', loader)
    const warmed = c.warmup({ k: loader, j: loader })
    await advance(0.05)
    expect(await pending).toBe('K')
    // 'k' was absent when warmup read the store: it is "loaded", by the flight already running.
    expect(await warmed).toEqual({ loaded: ['k', 'j'], skipped: [], failed: [] })
    expect(loader.mock.calls).toEqual([['k'], ['j']])
  })

  test('warmup with a ttl override', async () => {
    const c = createCache<number>({ ttl: 60 })
    expect(await c.warmup({ short: async () => 1 }, { ttl: 1 })).toEqual({ loaded: ['short'], skipped: [], failed: [] })
    await advance(0.99)
    expect(c.get('short')).toBe(1)
    await advance(0.02)
    expect(c.get('short')).toBeUndefined()
  })

  test('with an async store: one getMany for all keys', async () => {
    const store = asyncStore()
    const getMany = jest.spyOn(store, 'getMany')
    const c = createCache({ ttl: 60, store })
    await c.set('x', 1)
    const result = await c.warmup({ x: async () => 10, y: async () => 20, z: async () => 30 })
    expect(result).toEqual({ loaded: ['y', 'z'], skipped: ['x'], failed: [] })
    expect(getMany.mock.calls).toEqual([[['x', 'y', 'z']]])
    expect(await store.getMany(['x', 'y', 'z'])).toEqual(
      new Map([
        ['x', 1],
        ['y', 20],
        ['z', 30],
      ]),
    )
  })

  test('bad input', async () => {
    const c = createCache({ ttl: 60, name: 'w' })
    await expect(c.warmup(null as never)).rejects.toThrow('w.warmup(): expected an object of key: loader')
    await expect(c.warmup({ a: 'nope' as never })).rejects.toThrow('w.warmup(): the loader of key "a" must be a function')
    await expect(c.warmup({ a: async () => 1 }, { ttl: -1, size: 2 } as never)).rejects.toThrow('unknown option "size"')
    expect(await c.warmup({})).toEqual({ loaded: [], skipped: [], failed: [] })
  })
})

describe('getMetrics', () => {
  test('counts hits, misses, size and hit rate after a known sequence', async () => {
    const metrics = new InMemoryMetrics()
    const c = createCache({ ttl: 10, stale: 10, metrics, name: 'users', logger: silent })
    expect(c.getMetrics()).toEqual({ hits: 0, misses: 0, size: 0, hitRate: 0 })
    c.get('a') // miss
    await c.getOrSet('a', async () => 1) // miss (loads)
    await c.getOrSet('a', async () => 1) // hit
    c.get('a') // hit
    c.set('b', 2)
    c.get('b') // hit
    c.get('c') // miss
    await advance(15)
    await c.getOrSet('a', async () => 11) // stale hit
    expect(c.getMetrics()).toEqual({ hits: 4, misses: 3, size: 2, hitRate: 4 / 7 })
    // The same counts reach the MetricsCollector.
    // Sets: the load of 'a', set('b') and the background refresh the stale hit started.
    expect(metrics.getStats().caches.users).toMatchObject({ hits: 4, misses: 3, sets: 3 })
    c.delete('b')
    expect(metrics.getStats().caches.users.deletes).toBe(1)
    expect(c.getMetrics().size).toBe(1)
  })
})

describe('options', () => {
  test.each([
    [undefined, 'createCache(): options are required (at least "ttl")'],
    [{}, 'createCache(): option "ttl" is required'],
    [{ ttl: 'soon' }, 'option "ttl" must be a duration'],
    [{ ttl: 60, stale: -1 }, 'option "stale" must not be negative'],
    [{ ttl: 60, name: '' }, 'createCache(): option "name" must be a non-empty string'],
    [{ ttl: 60, cacheNull: 'yes' }, 'createCache(): option "cacheNull" must be a boolean'],
    [{ ttl: 60, metrics: {} }, 'createCache(): option "metrics" must be a MetricsCollector'],
    [{ ttl: 60, store: 42 }, 'option "store" must be a CacheStorage'],
    [{ ttl: 60, onError: 'log' }, 'createCache(): option "onError" must be a function'],
    [{ ttl: 60, logger: {} }, 'createCache(): option "logger"'],
    [{ ttl: 60, lock: true }, 'createCache(): unknown option "lock"'],
    ['60', 'createCache(): options must be an object'],
  ])('%p is a TypeError naming the option', (options, message) => {
    expect(() => createCache(options as never)).toThrow(TypeError)
    expect(() => createCache(options as never)).toThrow(message)
  })

  test('per-call options, keys and loaders are validated', () => {
    const c = createCache({ ttl: 60, name: 'c' })
    expect(() => c.getOrSet('k', async () => 1, { ttl: 'x' })).toThrow('option "ttl" must be a duration')
    expect(() => c.getOrSet('k', async () => 1, { stale: -2 })).toThrow('option "stale" must not be negative')
    expect(() => c.getOrSet('k', async () => 1, { tll: 5 } as never)).toThrow('c.getOrSet(): unknown option "tll"')
    expect(() => c.set('k', 1, { ttl: NaN })).toThrow('option "ttl"')
    expect(() => c.getOrSet('', async () => 1)).toThrow("c.getOrSet(): the key must be a non-empty string (got '')")
    expect(() => c.get(7 as never)).toThrow('c.get(): the key must be a non-empty string (got number)')
    expect(() => c.delete(undefined as never)).toThrow('c.delete(): the key must be a non-empty string')
    expect(() => c.getOrSet('k', 'value' as never)).toThrow('c.getOrSet(): the loader of key "k" must be a function')
  })

  test('exposes its store and name', () => {
    const store = new InMemCache()
    const c = createCache({ ttl: 60, store, name: 'sessions' })
    expect(c.store).toBe(store)
    expect(c.name).toBe('sessions')
    expect(createCache({ ttl: 1 }).name).toBe('cache')
  })
})
