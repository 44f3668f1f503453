import { cache, InMemCache, InMemoryMetrics, KeyTemplateError } from '../src/index.js'
import type { Batched, BatchLoadFn, CacheDecorator, CacheOptions } from '../src/index.js'
import { asyncStore } from './support/async-store.js'
import { advance, useFakeClock } from './support/fake-clock.js'

useFakeClock()

/** `cache(ttl, { batch })` typed as what it returns at run time. */
function batched<K, V>(ttl: number, options: CacheOptions, fn: BatchLoadFn<K, V>): Batched<K, V> {
  return cache(ttl, options)(fn as (...args: any[]) => any) as unknown as Batched<K, V>
}

interface User {
  id: number
  name: string
}

/** A batch function over a fixed table, recording the ids of every call; answers after `delayMs`. */
function usersLoader(delayMs = 0) {
  const calls: number[][] = []
  const fn = async (ids: number[]): Promise<Map<number, User>> => {
    calls.push([...ids])
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
    return new Map(ids.filter((id) => id < 100).map((id) => [id, { id, name: `user${id}` }]))
  }
  return { calls, fn }
}

describe('batching window', () => {
  test('calls made in the same tick become one call of the batch function', async () => {
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: true, key: 'user:{0}' }, fn)
    const all = Promise.all([getUser(1), getUser(2), getUser(3)])
    expect(calls).toEqual([]) // nothing runs before the tick ends
    await advance(0)
    expect(await all).toEqual([
      { id: 1, name: 'user1' },
      { id: 2, name: 'user2' },
      { id: 3, name: 'user3' },
    ])
    expect(calls).toEqual([[1, 2, 3]])
  })

  test('calls made after awaiting a resolved promise in the same macrotask join the batch', async () => {
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: {} }, fn)
    const first = getUser(1)
    await Promise.resolve()
    await Promise.resolve()
    const second = getUser(2)
    await advance(0)
    await Promise.all([first, second])
    expect(calls).toEqual([[1, 2]])
  })

  test('windowMs: calls within the window merge, a call after it starts a new batch', async () => {
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: { windowMs: 10 } }, fn)
    const a = getUser(1)
    await advance(0.005)
    const b = getUser(2)
    expect(calls).toEqual([])
    await advance(0.005) // the window opened by getUser(1) closes at 10 ms
    expect(calls).toEqual([[1, 2]])
    const c = getUser(3)
    await advance(0.009)
    expect(calls).toEqual([[1, 2]])
    await advance(0.001)
    expect(calls).toEqual([[1, 2], [3]])
    expect((await Promise.all([a, b, c])).map((u) => u?.id)).toEqual([1, 2, 3])
  })

  test('duplicates are removed; every caller of an id gets the same value', async () => {
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: true }, fn)
    const all = Promise.all([getUser(1), getUser(2), getUser(1), getUser(1), getUser(2)])
    await advance(0)
    const [a, b, c, d, e] = await all
    expect(calls).toEqual([[1, 2]])
    expect(c).toBe(a)
    expect(d).toBe(a)
    expect(e).toBe(b)
  })

  test('ids already in flight join that flight; new ids start a new batch', async () => {
    const { calls, fn } = usersLoader(50)
    const getUser = batched(60, { batch: true }, fn)
    const first = getUser(1)
    await advance(0.01) // dispatched, the batch function is still running
    expect(calls).toEqual([[1]])
    const joined = getUser(1)
    const other = getUser(2)
    await advance(0.05)
    expect(calls).toEqual([[1], [2]])
    expect(await joined).toBe(await first)
    expect(await other).toEqual({ id: 2, name: 'user2' })
  })

  test('maxBatchSize splits the misses into several calls', async () => {
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: { maxBatchSize: 2 } }, fn)
    const all = getUser.many([1, 2, 3, 4, 5, 3])
    await advance(0)
    expect((await all).map((u) => u?.id)).toEqual([1, 2, 3, 4, 5, 3])
    expect(calls).toEqual([[1, 2], [3, 4], [5]])
  })

  test('with an in-memory store a hit is answered without waiting for a window', async () => {
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: { windowMs: 1000 } }, fn)
    const first = getUser(1)
    await advance(1)
    await first
    // No timer is advanced: a hit that waited for the window would never settle here.
    expect(await getUser(1)).toEqual({ id: 1, name: 'user1' })
    expect(getUser(1)).toBe(getUser(1)) // one cached promise per entry
    expect(calls).toEqual([[1]])
  })
})

describe('results', () => {
  test('ids the batch function does not return are not cached; their callers get undefined', async () => {
    const calls: number[][] = []
    const getUser = batched(60, { batch: true }, async (ids: number[]) => {
      calls.push([...ids])
      return new Map(ids.filter((id) => id !== 2).map((id) => [id, id === 3 ? undefined : { id }]))
    })
    const all = Promise.all([getUser(1), getUser(2), getUser(3)])
    await advance(0)
    expect(await all).toEqual([{ id: 1 }, undefined, undefined])
    const again = Promise.all([getUser(1), getUser(2), getUser(3)])
    await advance(0)
    expect(await again).toEqual([{ id: 1 }, undefined, undefined])
    expect(calls).toEqual([
      [1, 2, 3],
      [2, 3],
    ])
  })

  test('an array result maps by position; undefined entries are not cached', async () => {
    const calls: string[][] = []
    const getName = batched(60, { batch: true, store: new InMemCache(), key: 'name:{0}' }, (ids: string[]) => {
      calls.push([...ids])
      return ids.map((id) => (id === 'b' ? undefined : id.toUpperCase()))
    })
    const all = getName.many(['a', 'b', 'c'])
    await advance(0)
    expect(await all).toEqual(['A', undefined, 'C'])
    expect(getName.store.get('name:a')).toBe('A')
    expect(getName.store.exists('name:b')).toBe(false)
    const again = getName.many(['a', 'b'])
    await advance(0)
    expect(await again).toEqual(['A', undefined])
    expect(calls).toEqual([['a', 'b', 'c'], ['b']])
  })

  test('an array of the wrong length fails every caller of that batch and caches nothing', async () => {
    let n = 0
    const store = new InMemCache()
    const get = batched(60, { batch: true, store, name: 'short' }, async (ids: number[]) => {
      n++
      return n === 1 ? ids.slice(1).map((id) => id * 10) : ids.map((id) => id * 10)
    })
    const settled = Promise.allSettled([get(1), get(2), get(3)])
    await advance(0)
    const results = await settled
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
    const reason = (results[0] as PromiseRejectedResult).reason
    expect(reason).toBeInstanceOf(TypeError)
    expect(reason.message).toBe(
      'batch function "short" returned an array of 2 values for 3 ids; return one value per id, in order (undefined for an id not found), or a Map from id to value',
    )
    expect(store.size).toBe(0)
    const again = get.many([1, 2, 3])
    await advance(0)
    expect(await again).toEqual([10, 20, 30])
    expect(n).toBe(2)
  })

  test('a result that is neither a Map nor an array is a TypeError for its callers', async () => {
    const get = batched(60, { batch: true, name: 'odd' }, async () => ({ 1: 'x' }) as never)
    const checked = expect(get(1)).rejects.toThrow('batch function "odd" must return (a promise of) a Map or an array, got object')
    await advance(0)
    await checked
  })

  test('a loader error (rejection or throw) reaches every waiting caller and caches nothing', async () => {
    for (const mode of ['reject', 'throw'] as const) {
      let n = 0
      const calls: number[][] = []
      const get = batched(60, { batch: true }, (ids: number[]) => {
        calls.push([...ids])
        if (++n === 1) {
          if (mode === 'throw') throw new Error('db down')
          return Promise.reject(new Error('db down'))
        }
        return ids.map((id) => id * 2)
      })
      const settled = Promise.allSettled([get(1), get(2), get(1)])
      await advance(0)
      const results = await settled
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
      const reasons = new Set(results.map((r) => (r as PromiseRejectedResult).reason))
      expect(reasons.size).toBe(1)
      expect([...reasons][0].message).toBe('db down')
      const again = get.many([1, 2])
      await advance(0)
      expect(await again).toEqual([2, 4])
      expect(calls).toEqual([
        [1, 2],
        [1, 2],
      ])
    }
  })

  test('one failing chunk does not fail the other chunks of the window', async () => {
    const calls: number[][] = []
    const get = batched(60, { batch: { maxBatchSize: 2 } }, async (ids: number[]) => {
      calls.push([...ids])
      if (ids.includes(3)) throw new Error('bad chunk')
      return ids.map(String)
    })
    const settled = Promise.allSettled([get(1), get(2), get(3), get(4)])
    await advance(0)
    expect((await settled).map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      '1',
      '2',
      'bad chunk',
      'bad chunk',
    ])
    expect(calls).toEqual([
      [1, 2],
      [3, 4],
    ])
  })

  test('null is returned but cached only with cacheNull; 0 and "" are cached', async () => {
    for (const cacheNull of [false, true]) {
      const calls: number[][] = []
      const get = batched(60, { batch: true, cacheNull }, (ids: number[]) => {
        calls.push([...ids])
        return ids.map((id) => (id === 1 ? null : id === 2 ? 0 : ''))
      })
      const first = get.many([1, 2, 3])
      await advance(0)
      expect(await first).toEqual([null, 0, ''])
      const second = get.many([1, 2, 3])
      await advance(0)
      expect(await second).toEqual([null, 0, ''])
      expect(calls).toEqual(cacheNull ? [[1, 2, 3]] : [[1, 2, 3], [1]])
    }
  })
})

describe('store reads and writes', () => {
  test('hits are served from the store without calling the batch function; only misses are loaded', async () => {
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: true, key: 'user:{0}' }, fn)
    const first = getUser.many([1, 2])
    await advance(0)
    await first
    const second = getUser.many([1, 2, 4])
    await advance(0)
    expect((await second).map((u) => u?.id)).toEqual([1, 2, 4])
    expect(calls).toEqual([[1, 2], [4]])
  })

  test('an async store is read with one getMany and written with one setMany per batch', async () => {
    const store = asyncStore()
    const getMany = jest.spyOn(store, 'getMany')
    const setMany = jest.spyOn(store, 'setMany')
    const getEntry = jest.spyOn(store, 'getEntry')
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: true, store, key: 'user:{0}' }, fn)

    const first = Promise.all([getUser(1), getUser(2), getUser(3), getUser(2)])
    await advance(0)
    expect((await first).map((u) => u?.id)).toEqual([1, 2, 3, 2])
    expect(getMany.mock.calls).toEqual([[['user:1', 'user:2', 'user:3']]])
    expect(setMany).toHaveBeenCalledTimes(1)
    expect([...(setMany.mock.calls[0][0] as Map<string, User>).keys()]).toEqual(['user:1', 'user:2', 'user:3'])
    expect(setMany.mock.calls[0][1]).toBe(60)
    expect(calls).toEqual([[1, 2, 3]])

    const second = Promise.all([getUser(3), getUser(1), getUser(7)])
    await advance(0)
    expect((await second).map((u) => u?.id)).toEqual([3, 1, 7])
    expect(getMany).toHaveBeenCalledTimes(2)
    expect(getMany.mock.calls[1]).toEqual([['user:3', 'user:1', 'user:7']])
    expect(calls).toEqual([[1, 2, 3], [7]])
    expect(getEntry).not.toHaveBeenCalled()
    // Returned entries are the store's copies, written as the batch function gave them.
    expect(await store.get('user:7')).toEqual({ id: 7, name: 'user7' })
  })

  test('an async store answering on a later macrotask', async () => {
    const store = asyncStore(new InMemCache(), { defer: 'immediate' })
    const getMany = jest.spyOn(store, 'getMany')
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: true, store, key: 'u:{0}' }, fn)
    // Fake immediates scheduled while time advances run on the next millisecond.
    const first = getUser.many([5, 6])
    for (let i = 0; i < 4; i++) await advance(0.001)
    expect((await first).map((u) => u?.name)).toEqual(['user5', 'user6'])
    const second = getUser.many([5, 6])
    for (let i = 0; i < 4; i++) await advance(0.001)
    expect((await second).map((u) => u?.name)).toEqual(['user5', 'user6'])
    expect(getMany).toHaveBeenCalledTimes(2)
    expect(calls).toEqual([[5, 6]])
  })

  test('a store that raises on reads fails the callers of that window', async () => {
    const store = asyncStore()
    jest.spyOn(store, 'getMany').mockRejectedValueOnce(new Error('store down'))
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: true, store, name: 'users' }, fn)
    const settled = Promise.allSettled([getUser(1), getUser(2)])
    await advance(0)
    expect((await settled).map((r) => (r as PromiseRejectedResult).reason?.message)).toEqual(['store down', 'store down'])
    expect(calls).toEqual([])
    const again = getUser(1)
    await advance(0)
    expect((await again)?.id).toBe(1)
  })

  test('entries expire after the TTL, then the batch function runs again for them', async () => {
    const { calls, fn } = usersLoader()
    const getUser = batched(60, { batch: true }, fn)
    const first = getUser.many([1, 2])
    await advance(0)
    await first
    await advance(59.9)
    const stillFresh = getUser.many([1, 2])
    await advance(0)
    await stillFresh
    expect(calls).toEqual([[1, 2]])
    await advance(0.1)
    const expired = getUser.many([2, 1])
    await advance(0)
    expect((await expired).map((u) => u?.id)).toEqual([2, 1])
    expect(calls).toEqual([
      [1, 2],
      [2, 1],
    ])
  })

  test('TTL expiry with an async store', async () => {
    const store = asyncStore()
    const { calls, fn } = usersLoader()
    const getUser = batched('30s' as unknown as number, { batch: true, store, key: 'user:{0}' }, fn)
    const a = getUser(1)
    await advance(0)
    await a
    await advance(29)
    const b = getUser(1)
    await advance(0)
    await b
    // The store's getMany decides: this one (an InMemCache) keeps an entry up to its expiry instant inclusive.
    await advance(1.01)
    const c = getUser(1)
    await advance(0)
    await c
    expect(calls).toEqual([[1], [1]])
  })

  test('ttl <= 0: calls are still batched and deduplicated, nothing is read or stored', async () => {
    const store = new InMemCache()
    const getMany = jest.spyOn(store, 'getMany')
    const { calls, fn } = usersLoader()
    const getUser = batched(0, { batch: true, store }, fn)
    const first = Promise.all([getUser(1), getUser(1), getUser(2)])
    await advance(0)
    expect((await first).map((u) => u?.id)).toEqual([1, 1, 2])
    const second = getUser(1)
    await advance(0)
    await second
    expect(calls).toEqual([[1, 2], [1]])
    expect(store.size).toBe(0)
    expect(getMany).not.toHaveBeenCalled()
  })
})

describe('keys', () => {
  test('templates apply to the single id: {0}, {}, properties of an object id, key functions', async () => {
    const store = new InMemCache()
    const byIndex = batched(60, { batch: true, store, key: 'user:{0}' }, (ids: number[]) => ids.map((id) => id))
    const auto = batched(60, { batch: true, store, key: 'auto:{}' }, (ids: number[]) => ids.map((id) => id))
    const byProp = batched(60, { batch: true, store, key: '{org}:{id}' }, (ids: Array<{ org: string; id: number }>) =>
      ids.map((x) => x.id),
    )
    const byFn = batched(60, { batch: true, store, key: (id: number) => `fn:${id * 2}` }, (ids: number[]) => ids)
    expect(byIndex.key(7)).toBe('user:7')
    expect(auto.key(7)).toBe('auto:7')
    expect(byProp.key({ org: 'acme', id: 3 })).toBe('acme:3')
    expect(byFn.key(4)).toBe('fn:8')
    const all = Promise.all([byIndex(7), auto(7), byProp({ org: 'acme', id: 3 }), byFn(4)])
    await advance(0)
    expect(await all).toEqual([7, 7, 3, 4])
    expect([...['user:7', 'auto:7', 'acme:3', 'fn:8']].map((k) => store.get(k))).toEqual([7, 7, 3, 4])
  })

  test('object ids with the same key are deduplicated; the batch function gets the first of them', async () => {
    const calls: unknown[][] = []
    const get = batched(60, { batch: true, key: '{org}:{id}' }, (ids: Array<{ org: string; id: number }>) => {
      calls.push(ids)
      return ids.map((x) => `${x.org}/${x.id}`)
    })
    const a = { org: 'o', id: 1 }
    const all = Promise.all([get(a), get({ org: 'o', id: 1 }), get({ org: 'o', id: 2 })])
    await advance(0)
    expect(await all).toEqual(['o/1', 'o/1', 'o/2'])
    expect(calls).toEqual([[a, { org: 'o', id: 2 }]])
    expect(calls[0][0]).toBe(a)
  })

  test('the default key is the function name and the id', () => {
    const getUsers = batched(60, { batch: true }, async function getUsers(ids: number[]) {
      return ids
    })
    expect(getUsers.key(42)).toBe('getUsers(42)')
    expect(getUsers.key('x' as unknown as number)).toBe('getUsers("x")')
  })

  test('an id its template cannot key rejects that caller only', async () => {
    const { calls, fn } = usersLoader()
    const get = batched(60, { batch: true, key: 'user:{id}' }, fn as unknown as BatchLoadFn<{ id?: number }, User>)
    const bad = expect(get({})).rejects.toBeInstanceOf(KeyTemplateError)
    const good = get({ id: 1 })
    await advance(0)
    await bad
    expect(await good).toBeUndefined() // usersLoader keys its Map by number, not by this object
    expect(calls.length).toBe(1)
    expect(calls[0]).toEqual([{ id: 1 }])
  })

  test('an anonymous batch function on a given store needs a name or a key', () => {
    expect(() => cache(60, { batch: true, store: new InMemCache() })((ids: number[]) => ids)).toThrow(
      'cache(): an anonymous batch function on a given store needs a "name" or a "key" option',
    )
  })
})

describe('members', () => {
  test('invalidate, peek, refresh and clear', async () => {
    let version = 1
    const calls: number[][] = []
    const get = batched(60, { batch: true, key: 'v:{0}' }, async (ids: number[]) => {
      calls.push([...ids])
      return ids.map((id) => `${id}@${version}`)
    })
    const first = get.many([1, 2])
    await advance(0)
    expect(await first).toEqual(['1@1', '2@1'])
    expect(get.peek(1)).toBe('1@1')
    expect(get.peek(3)).toBeUndefined()

    version = 2
    get.invalidate(1)
    expect(get.peek(1)).toBeUndefined()
    const afterInvalidate = get.many([1, 2])
    await advance(0)
    expect(await afterInvalidate).toEqual(['1@2', '2@1'])

    version = 3
    const refreshed = get.refresh(2) // skips the store read
    await advance(0)
    expect(await refreshed).toBe('2@3')
    expect(get.peek(2)).toBe('2@3')

    get.clear()
    expect((get.store as InMemCache).getMany(['v:1', 'v:2']).size).toBe(0)
    expect(calls).toEqual([[1, 2], [1], [2]])
  })

  test('a load in flight during invalidate reaches its callers but is not written', async () => {
    const { calls, fn } = usersLoader(50)
    const getUser = batched(60, { batch: true }, fn)
    const first = getUser(1)
    await advance(0.01)
    getUser.invalidate(1)
    const second = getUser(1) // does not join the flight that predates the invalidation
    await advance(0.05)
    expect((await first)?.id).toBe(1)
    expect((await second)?.id).toBe(1)
    expect(calls).toEqual([[1], [1]])
    expect(getUser.store.exists('getUser(1)') || getUser.store.exists(getUser.key(1))).toBe(true) // the second load wrote
  })

  test('as a method decorator', async () => {
    class Users {
      calls: number[][] = []
      // TypeScript cannot retype a method into a function of one id: the decorator is cast, and so is the method.
      @(cache(60, { batch: true, key: 'user:{0}' }) as unknown as CacheDecorator)
      async byIds(ids: number[]) {
        this.calls.push([...ids])
        return ids.map((id) => ({ id }))
      }
    }
    const users = new Users()
    const byId = users.byIds as unknown as Batched<number, { id: number }>
    const all = Promise.all([byId.call(users, 1), byId.call(users, 2)])
    await advance(0)
    expect(await all).toEqual([{ id: 1 }, { id: 2 }])
    expect(users.calls).toEqual([[1, 2]])
  })
})

describe('metrics', () => {
  test('hits and misses per id, load latency per call of the batch function', async () => {
    const metrics = new InMemoryMetrics()
    const { fn } = usersLoader(20)
    const getUser = batched(60, { batch: { maxBatchSize: 2 }, metrics, name: 'users' }, fn)
    const first = getUser.many([1, 2, 3, 1])
    await advance(0.02)
    await first
    const second = getUser.many([1, 2, 4])
    await advance(0.02)
    await second
    const stats = metrics.getStats()
    expect(stats.caches.users).toMatchObject({ hits: 2, misses: 5, sets: 4 })
    expect(stats.latency['users.load'].count).toBe(3) // [1, 2], [3], [4]
    expect(stats.latency['users.load'].avgMs).toBeGreaterThanOrEqual(20)
  })

  test('a failed batch call is recorded as a load error', async () => {
    const metrics = new InMemoryMetrics()
    const get = batched(60, { batch: true, metrics, name: 'broken' }, async () => {
      throw new RangeError('nope')
    })
    const settled = Promise.allSettled([get(1), get(2)])
    await advance(0)
    await settled
    expect(metrics.getStats().errors['broken.load']).toEqual({ RangeError: 1 })
  })
})

describe('options', () => {
  const fn = (ids: number[]) => ids
  test.each([
    [{ windowMs: -1 }, 'cache(): option "batch.windowMs" must be a finite number of milliseconds >= 0 (got -1)'],
    [{ windowMs: Infinity }, 'option "batch.windowMs"'],
    [{ windowMs: '5ms' }, 'option "batch.windowMs"'],
    [{ maxBatchSize: 0 }, 'cache(): option "batch.maxBatchSize" must be a positive integer or Infinity (got 0)'],
    [{ maxBatchSize: 1.5 }, 'option "batch.maxBatchSize"'],
    [{ maxBatchSize: '10' }, 'option "batch.maxBatchSize"'],
    [{ size: 10 }, 'cache(): option "batch": unknown option "size" (known: windowMs, maxBatchSize)'],
    ['yes', 'cache(): option "batch": options must be an object'],
    [null, 'cache(): option "batch": options must be an object'],
  ])('batch: %p is a TypeError naming the option', (batch, message) => {
    expect(() => cache(60, { batch: batch as never })(fn)).toThrow(TypeError)
    expect(() => cache(60, { batch: batch as never })(fn)).toThrow(message)
  })

  test('stale cannot be combined with batch', () => {
    expect(() => cache(60, { batch: true, stale: 30 })(fn)).toThrow(
      new TypeError(
        'cache(): option "stale" cannot be combined with "batch" (supported with it: batch, key, store, metrics, name, cacheNull, onError, logger)',
      ),
    )
  })

  test('options shared with cache() are still validated', () => {
    expect(() => cache(60, { batch: true, name: '' })).toThrow('option "name"')
    expect(() => cache(60, { batch: true, metrics: {} as never })).toThrow('option "metrics"')
    expect(() => cache(60, { batch: true, store: 42 as never })(fn)).toThrow('option "store"')
    expect(() => cache(-1 as unknown as string, { batch: { windowMs: -1 } })(fn)).toThrow('batch.windowMs')
  })

  test('many() needs an array', async () => {
    const get = batched(60, { batch: true }, fn)
    await expect(get.many(7 as never)).rejects.toThrow('many(): expected an array of ids')
  })
})
