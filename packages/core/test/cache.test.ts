import { cache, ChainCache, HybridCache, InMemCache, KeyTemplateError, type CacheOptions } from '../src/index.js'
import { asyncStore } from './support/async-store.js'
import { advance, T0, useFakeClock } from './support/fake-clock.js'
import { InMemoryMetrics } from '../src/metrics.js'

const silent = { warn: () => {} }

useFakeClock()

describe('TTL', () => {
  test('a hit within the TTL does not call the function; after it, the function runs again', async () => {
    const loader = jest.fn(async (id: number) => ({ id, at: Date.now() }))
    const get = cache(60, { key: 'user:{id}' })(async function getUser(id: number) {
      return loader(id)
    })
    const first = await get(1)
    expect(await get(1)).toBe(first)
    expect(loader).toHaveBeenCalledTimes(1)
    await advance(59.9)
    expect(await get(1)).toBe(first)
    expect(loader).toHaveBeenCalledTimes(1)
    await advance(0.1)
    const second = await get(1)
    expect(second).not.toBe(first)
    expect(second.at).toBe(T0 + 60_000)
    expect(loader).toHaveBeenCalledTimes(2)
    await get(2)
    expect(loader).toHaveBeenCalledTimes(3)
  })

  test('durations as strings and fractional seconds', async () => {
    const fn = jest.fn(async () => 1)
    const get = cache('250ms')(fn)
    await get()
    await advance(0.2)
    await get()
    expect(fn).toHaveBeenCalledTimes(1)
    await advance(0.05)
    await get()
    expect(fn).toHaveBeenCalledTimes(2)
  })

  test('ttl <= 0 bypasses the store: always called, nothing stored', async () => {
    for (const ttl of [0, -5]) {
      const store = new InMemCache()
      const fn = jest.fn(async (x: number) => x * 2)
      const get = cache(ttl, { store })(fn)
      expect(await get(2)).toBe(4)
      expect(await get(2)).toBe(4)
      expect(fn).toHaveBeenCalledTimes(2)
      expect(store.size).toBe(0)
    }
  })

  test('a sync function stays sync with a synchronous store', () => {
    const fn = jest.fn((env: string) => ({ env }))
    const getConfig = cache(60, { key: 'config:{env}' })((env: string) => fn(env))
    const a = getConfig('prod')
    expect(a).toEqual({ env: 'prod' })
    expect(a).not.toBeInstanceOf(Promise)
    expect(getConfig('prod')).toBe(a)
    expect(fn).toHaveBeenCalledTimes(1)
  })

  test('async hits hand back one cached resolved promise per entry', async () => {
    const get = cache(60)(async (id: number) => ({ id }))
    await get(1)
    const p1 = get(1)
    const p2 = get(1)
    expect(p1).toBeInstanceOf(Promise)
    expect(p1).toBe(p2)
    expect(await p1).toEqual({ id: 1 })
  })
})

describe('single-flight', () => {
  test('100 concurrent misses run the function once and share its result', async () => {
    let calls = 0
    const get = cache(60)(async (id: number) => {
      calls++
      await new Promise((r) => setTimeout(r, 20))
      return { id, n: calls }
    })
    const all = Promise.all(Array.from({ length: 100 }, () => get(7)))
    await advance(0.02)
    const results = await all
    expect(calls).toBe(1)
    expect(new Set(results).size).toBe(1)
    expect(results[0]).toEqual({ id: 7, n: 1 })
  })

  test('concurrent callers share one error; errors are never cached', async () => {
    let calls = 0
    const get = cache(60)(async () => {
      calls++
      await new Promise((r) => setTimeout(r, 10))
      if (calls === 1) throw new Error('boom')
      return 'ok'
    })
    const settled = Promise.allSettled([get(), get(), get()])
    await advance(0.01)
    const results = await settled
    expect(calls).toBe(1)
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
    expect(new Set(results.map((r) => (r as PromiseRejectedResult).reason)).size).toBe(1)
    const next = get()
    await advance(0.01)
    expect(await next).toBe('ok')
    expect(calls).toBe(2)
  })

  test('a dead entry reload is single-flight too', async () => {
    let calls = 0
    const get = cache(10, { stale: 5 })(async () => {
      calls++
      await new Promise((r) => setTimeout(r, 10))
      return calls
    })
    const p = get()
    await advance(0.01)
    expect(await p).toBe(1)
    await advance(16)
    const reloads = Promise.all([get(), get(), get()])
    await advance(0.01)
    expect(await reloads).toEqual([2, 2, 2])
    expect(calls).toBe(2)
  })

  // A miss on an InMemCache keeps its load in the store as a placeholder record until the value lands.
  describe('loads waiting in an InMemCache', () => {
    const slow = (calls: { n: number }, ms = 10) => async (id: number) => {
      calls.n++
      await new Promise((r) => setTimeout(r, ms))
      return { id, n: calls.n }
    }

    test('the store shows no entry for a key being loaded; later callers join the load', async () => {
      const store = new InMemCache()
      const calls = { n: 0 }
      const get = cache(60, { key: 'user:{id}', store })(slow(calls))
      const first = get(1)
      expect(store.size).toBe(0)
      expect(store.get('user:1')).toBeUndefined()
      expect(store.exists('user:1')).toBe(false)
      expect(store.getEntry('user:1')).toBeUndefined()
      expect(store.getMany(['user:1'])).toEqual(new Map())
      expect(store.memoryUsage().entries).toBe(0)
      expect(get.peek(1)).toBeUndefined()
      const joined = [get(1), get(1), get.refresh(1)]
      await advance(0.01)
      const values = await Promise.all([first, ...joined])
      expect(calls.n).toBe(1)
      expect(new Set(values).size).toBe(1)
      expect(store.size).toBe(1)
      expect(store.get('user:1')).toBe(values[0])
    })

    test('a failed load leaves nothing behind and the next call loads again', async () => {
      const store = new InMemCache()
      let n = 0
      const get = cache(60, { store, name: 'f' })(async () => {
        n++
        await new Promise((r) => setTimeout(r, 10))
        if (n === 1) throw new Error('down')
        return n
      })
      const failed = get()
      const joined = get()
      await advance(0.01)
      await expect(failed).rejects.toThrow('down')
      await expect(joined).rejects.toThrow('down')
      expect(store.size).toBe(0)
      const next = get()
      await advance(0.01)
      expect(await next).toBe(2)
      expect(n).toBe(2)
    })

    test('a value written to the store during a load wins over it; clear() during a load keeps it from writing', async () => {
      const store = new InMemCache()
      const calls = { n: 0 }
      const get = cache(60, { key: 'user:{id}', store })(slow(calls))
      const p = get(1)
      store.set('user:1', 'written meanwhile', 60)
      await advance(0.01)
      expect(await p).toEqual({ id: 1, n: 1 }) // its callers still get the loaded value
      expect(store.get('user:1')).toBe('written meanwhile')
      expect(await get(1)).toBe('written meanwhile')

      const q = get(2)
      await get.clear()
      await advance(0.01)
      expect(await q).toEqual({ id: 2, n: 2 })
      expect(store.size).toBe(0)
    })

    test('functions sharing a store never join each other\'s loads', async () => {
      const store = new InMemCache()
      const a = cache(60, { key: 'k:{id}', store })(async (id: number) => {
        await new Promise((r) => setTimeout(r, 10))
        return `a${id}`
      })
      const b = cache(60, { key: 'k:{id}', store })(async (id: number) => {
        await new Promise((r) => setTimeout(r, 5))
        return `b${id}`
      })
      const syncC = cache(60, { key: 'k:{id}', store })((id: number) => `c${id}`)
      const pa = a(1)
      const pb = b(1) // its own load: the key now waits for b's
      await advance(0.01)
      expect([await pa, await pb]).toEqual(['a1', 'b1'])
      expect(store.get('k:1')).toBe('b1') // a's load was displaced and did not write
      const pa2 = a(2)
      expect(syncC(2)).toBe('c2') // a synchronous function does not wait for a's load
      await advance(0.01)
      expect(await pa2).toBe('a2')
      expect(store.get('k:2')).toBe('c2')
    })

    test('a bounded store stays within maxSize under many concurrent misses', async () => {
      const store = new InMemCache({ maxSize: 10 })
      const calls = { n: 0 }
      const get = cache(60, { key: 'user:{id}', store })(slow(calls))
      const all = Promise.all(Array.from({ length: 50 }, (_, i) => get(i)))
      expect(store.size).toBe(0)
      await advance(0.01)
      const values = await all
      expect(values.map((v) => v.id)).toEqual(Array.from({ length: 50 }, (_, i) => i))
      expect(calls.n).toBe(50)
      expect(store.size).toBe(10)
      expect(store.get('user:49')).toEqual({ id: 49, n: 50 })
    })

    test('a loaded entry is stamped when its value lands and lives exactly its TTL', async () => {
      const calls = { n: 0 }
      const get = cache(60, { key: 'user:{id}' })(slow(calls, 1000))
      const p = get(1)
      await advance(1)
      await p
      await advance(59.999)
      expect((await get(1)).n).toBe(1)
      await advance(0.001) // createdAt (T0 + 1 s, when the value landed) + 60 s
      const again = get(1)
      await advance(1)
      expect((await again).n).toBe(2)
    })
  })

  test('a synchronous throw reaches the caller and is not cached', () => {
    let calls = 0
    const get = cache(60)((x: number) => {
      calls++
      if (calls === 1) throw new TypeError('bad')
      return x
    })
    expect(() => get(1)).toThrow(TypeError)
    expect(get(1)).toBe(1)
    expect(get(1)).toBe(1)
    expect(calls).toBe(2)
  })
})

describe('what is cached', () => {
  test('undefined is never cached; null only with cacheNull; 0, "", false are', async () => {
    const values: Record<string, unknown> = { u: undefined, n: null, z: 0, e: '', f: false }
    const fn = jest.fn((k: string) => values[k])
    const get = cache(60)(fn)
    for (const k of Object.keys(values)) {
      expect(get(k)).toBe(values[k])
      expect(get(k)).toBe(values[k])
    }
    expect(fn.mock.calls.map((c) => c[0])).toEqual(['u', 'u', 'n', 'n', 'z', 'e', 'f'])

    const fn2 = jest.fn(() => null)
    const withNull = cache(60, { cacheNull: true })(fn2)
    expect(withNull()).toBeNull()
    expect(withNull()).toBeNull()
    expect(fn2).toHaveBeenCalledTimes(1)
  })
})

describe('stale-while-revalidate', () => {
  function priced() {
    let n = 0
    const loader = jest.fn(async (symbol: string) => {
      await new Promise((r) => setTimeout(r, 100))
      return `${symbol}@${++n}`
    })
    return loader
  }

  test('fresh → stale (served at once, one refresh) → fresh again; the end of the stale window is inclusive', async () => {
    const loader = priced()
    const store = new InMemCache()
    const get = cache(60, { stale: 30, key: 'price:{symbol}', store })((symbol: string) => loader(symbol))
    const first = get('ACME')
    await advance(0.1)
    expect(await first).toBe('ACME@1')
    await advance(60) // now = createdAt + 60.1 - 0.1 … exactly at freshUntil: stale
    const stale = await Promise.all([get('ACME'), get('ACME'), get('ACME')])
    expect(stale).toEqual(['ACME@1', 'ACME@1', 'ACME@1'])
    expect(loader).toHaveBeenCalledTimes(2) // one refresh for three stale reads
    expect(store.size).toBe(1) // no lock or marker keys in the store
    await advance(0.1)
    expect(await get('ACME')).toBe('ACME@2')
    expect(loader).toHaveBeenCalledTimes(2)
  })

  test('stale until createdAt + ttl + stale inclusive, dead after', async () => {
    const calls: number[] = []
    const get = cache(10, { stale: 5 })((x: number) => {
      calls.push(Date.now() - T0)
      return calls.length
    })
    expect(get(1)).toBe(1)
    await advance(15) // exactly createdAt + ttl + stale: still stale
    expect(get(1)).toBe(1) // served stale; the refresh of a sync function runs right after
    await Promise.resolve()
    await Promise.resolve()
    expect(calls).toEqual([0, 15000])
    expect(get(1)).toBe(2)
    await advance(15.001) // past the window: dead, the caller waits for the new value
    expect(get(1)).toBe(3)
    expect(calls).toEqual([0, 15000, 30001])
  })

  test('a failed refresh keeps the stale value, reports the error, and retries at most once a second', async () => {
    let fail = false
    let n = 0
    const loader = jest.fn(async () => {
      if (fail) throw new Error('upstream down')
      return ++n
    })
    const errors: unknown[] = []
    const infos: unknown[] = []
    const metrics = new InMemoryMetrics()
    const get = cache(10, {
      stale: 60,
      name: 'price',
      metrics,
      onError: (error, info) => {
        errors.push(error)
        infos.push(info)
      },
    })(loader)
    expect(await get()).toBe(1)
    fail = true
    await advance(10)
    expect(await get()).toBe(1)
    await advance(0)
    expect(loader).toHaveBeenCalledTimes(2)
    expect(errors).toHaveLength(1)
    expect((errors[0] as Error).message).toBe('upstream down')
    expect(infos[0]).toEqual({ cacheName: 'price', key: get.key(), operation: 'refresh' })
    // Within a second of the failure: stale value, no new attempt.
    await advance(0.5)
    expect(await get()).toBe(1)
    expect(loader).toHaveBeenCalledTimes(2)
    // After a second: one more attempt.
    await advance(0.5)
    expect(await get()).toBe(1)
    await advance(0)
    expect(loader).toHaveBeenCalledTimes(3)
    fail = false
    await advance(1)
    expect(await get()).toBe(1)
    await advance(0)
    expect(await get()).toBe(2)
    expect(loader).toHaveBeenCalledTimes(4)
    const stats = metrics.getStats()
    expect(stats.backgroundRefresh.price).toEqual({ success: 1, failure: 2 })
    expect(stats.caches.price.staleHits).toBe(4)
  })

  test('without onError a failed refresh is logged as a warning; a throwing onError is contained', async () => {
    const warnings: string[] = []
    const logger = { warn: (m: string) => warnings.push(m) }
    let calls = 0
    const get = cache(1, { stale: 10, logger, name: 'w' })(async () => {
      if (++calls > 1) throw new Error('nope')
      return calls
    })
    await get()
    await advance(1)
    expect(await get()).toBe(1)
    await advance(0)
    expect(warnings).toEqual([expect.stringContaining('refresh failed for "w"')])

    const get2 = cache(1, {
      stale: 10,
      logger,
      name: 'h',
      onError: () => {
        throw new Error('handler bug')
      },
    })(async () => {
      if (++calls > 3) throw new Error('nope')
      return calls
    })
    await get2()
    await advance(1)
    await get2()
    await advance(0)
    expect(warnings[1]).toContain('onError threw')
  })
})

describe('keys', () => {
  test('templates, key(), and the default key over all arguments', async () => {
    const store = new InMemCache()
    const byId = cache(60, { key: 'user:{id}', store })(async (id: number) => id)
    expect(byId.key(42)).toBe('user:42')
    await byId(42)
    expect(store.get('user:42')).toBe(42)

    const all = cache(60)(async function search(q: string, opts: { page: number; size: number }) {
      return `${q}:${opts.page}`
    })
    expect(all.key('a', { page: 1, size: 10 })).toBe(all.key('a', { size: 10, page: 1 }))
    expect(all.key('a', { page: 1, size: 10 })).not.toBe(all.key('a', { page: 2, size: 10 }))
    expect(all.key('a', { page: 1, size: 10 })).toContain('search')
  })

  test('an unknown placeholder fails at decoration time', () => {
    expect(() => cache(60, { key: 'user:{nope}' })(async (id: number, region: string) => `${id}${region}`)).toThrow(KeyTemplateError)
  })

  test('a key that cannot be built rejects an async call and throws from a sync one', async () => {
    const asyncFn = cache(60, { key: 'u:{user.id}' })(async (user: { id?: number }) => user.id)
    const p = asyncFn({})
    expect(p).toBeInstanceOf(Promise)
    await expect(p).rejects.toThrow(KeyTemplateError)
    const syncFn = cache(60)(function f(cb: unknown) {
      return cb
    })
    expect(() => syncFn(() => 1)).toThrow(/argument 0/)
  })

  test('an anonymous function on a given store needs a name or a key', () => {
    const store = new InMemCache()
    expect(() => cache(60, { store })(async (x: number) => x)).toThrow(/"name" or a "key"/)
    expect(cache(60, { store, name: 'double' })(async (x: number) => x).key(1)).toBe('double(1)')
    expect(() => cache(60)(async (x: number) => x)).not.toThrow() // a private store: no one to collide with
  })

  test('a key function', async () => {
    const get = cache(60, { key: (a: number, b: number) => `sum:${a + b}` })(async (a: number, b: number) => a + b)
    expect(get.key(1, 2)).toBe('sum:3')
    expect(await get(1, 2)).toBe(3)
    expect(get.key(2, 1)).toBe('sum:3')
  })
})

describe('members', () => {
  test('invalidate, clear, refresh, peek, store', async () => {
    let n = 0
    const store = new InMemCache()
    const get = cache(60, { key: 'k:{0}', store })(async (id: number) => `${id}#${++n}`)
    expect(await get(1)).toBe('1#1')
    expect(await get.peek(1)).toBe('1#1')
    expect(await get.peek(2)).toBeUndefined()
    expect(get.store).toBe(store)

    await get.invalidate(1)
    expect(store.exists('k:1')).toBe(false)
    expect(await get(1)).toBe('1#2')

    await advance(50)
    expect(await get.refresh(1)).toBe('1#3')
    await advance(50) // 100 s after the first load, 50 s after the refresh: still fresh
    expect(await get(1)).toBe('1#3')
    expect(n).toBe(3)

    await get(2)
    await get.clear()
    expect(store.size).toBe(0)
    expect(n).toBe(4)
  })

  test('an invalidation during a load keeps that load from writing a value computed before it', async () => {
    const store = new InMemCache()
    let n = 0
    const get = cache(60, { key: 'x', store })(async () => {
      const mine = ++n
      await new Promise((r) => setTimeout(r, 10))
      return mine
    })
    const p = get()
    await get.invalidate()
    await advance(0.01)
    expect(await p).toBe(1)
    expect(store.exists('x')).toBe(false)
  })

  test('store as a class or a factory (called once)', async () => {
    const factory = jest.fn(() => new InMemCache())
    const a = cache(60, { store: factory, name: 'a' })(async () => 1)
    await a()
    await a()
    expect(factory).toHaveBeenCalledTimes(1)
    expect(a.store).toBeInstanceOf(InMemCache)
    const b = cache(60, { store: InMemCache, name: 'b' })(async () => 1)
    expect(b.store).toBeInstanceOf(InMemCache)
  })
})

describe('decorators', () => {
  test('a TC39 method decorator keeps `this`', async () => {
    let calls = 0
    class Users {
      constructor(private readonly prefix: string) {}
      @cache(60, { key: 'user:{0}' })
      async get(id: number) {
        calls++
        return `${this.prefix}${id}`
      }
    }
    const users = new Users('u-')
    expect(await users.get(1)).toBe('u-1')
    expect(await users.get(1)).toBe('u-1')
    expect(calls).toBe(1)
  })

  test('a method on a given store needs a name or a key (a TC39 decorator does not see the class)', () => {
    const store = new InMemCache()
    expect(() => {
      class Users {
        @cache(60, { store })
        async get(id: number) {
          return id
        }
      }
      return Users
    }).toThrow(/method "get" on a given store needs a "name"/)
    class Orders {
      @cache(60, { store, name: 'Orders.get' })
      async get(id: number) {
        return id
      }
    }
    expect((Orders.prototype.get as unknown as { key(id: number): string }).key(1)).toBe('Orders.get(1)')
  })

  test('a legacy (experimentalDecorators) method decorator names the class', async () => {
    const store = new InMemCache()
    class Users {
      async get(id: number) {
        return `u${id}`
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(Users.prototype, 'get')!
    const decorated = (cache(60, { store }) as any)(Users.prototype, 'get', descriptor)
    Object.defineProperty(Users.prototype, 'get', decorated)
    expect(await new Users().get(1)).toBe('u1')
    expect(store.exists('Users.get(1)')).toBe(true)
  })

  test('decorating a non-method throws a TypeError', () => {
    expect(() => (cache(60) as any)(() => 1, { kind: 'getter', name: 'x' })).toThrow(TypeError)
  })
})

describe('options', () => {
  test.each([
    [() => cache('abc'), /ttl/],
    [() => cache(60, { stale: -1 }), /stale/],
    [() => cache(60, { stale: '5 parsecs' }), /stale/],
    [() => cache(60, { ttll: 3 } as any), /ttll/],
    [() => cache(60, { cacheNull: 'yes' } as any), /cacheNull/],
    [() => cache(60, { metrics: {} } as any), /metrics/],
    [() => cache(60, { onError: 'raise' } as any), /onError/],
    [() => cache(60, { store: { get() {} } } as unknown as CacheOptions)(async () => 1), /store/],
  ])('bad option %# throws a TypeError naming it', (make, name) => {
    expect(make).toThrow(TypeError)
    expect(make).toThrow(name)
  })
})

describe('asynchronous stores', () => {
  test('hits, misses and SWR through a store that answers with promises', async () => {
    const store = asyncStore()
    let n = 0
    const get = cache(10, { stale: 10, key: 'a:{0}', store, logger: silent })(async (id: number) => `${id}:${++n}`)
    const r = get(1)
    expect(r).toBeInstanceOf(Promise)
    expect(await r).toBe('1:1')
    expect(await get(1)).toBe('1:1')
    expect(await store.get('a:1')).toBe('1:1')
    await advance(11)
    expect(await get(1)).toBe('1:1')
    await advance(0)
    expect(await get(1)).toBe('1:2')
    expect(n).toBe(2)
  })

  test('a sync function over an async store returns promises', async () => {
    const get = cache(10, { store: asyncStore(), key: 'plus1:{0}' })((x: number) => x + 1)
    const r = get(1)
    expect(r).toBeInstanceOf(Promise)
    expect(await r).toBe(2)
  })
})

describe('tiered stores', () => {
  test('SWR through a ChainCache: with L1 capped at 5 s, the stale value comes from L2 and the refresh writes both', async () => {
    const l1 = new InMemCache()
    const l2 = asyncStore()
    const store = ChainCache.build(l1, l2, { ttls: [5] })
    let n = 0
    const get = cache(10, { stale: 20, key: 'p:{0}', store, logger: silent })(async (id: number) => `${id}#${++n}`)
    expect(await get(1)).toBe('1#1')
    expect(l1.getEntry('p:1')?.value).toBe('1#1')
    await advance(10) // L1's copy (capped at 5 s) is gone; L2 keeps the entry for ttl + stale
    expect(l1.exists('p:1')).toBe(false)
    expect(await get(1)).toBe('1#1') // stale, from L2, not promoted
    expect(l1.exists('p:1')).toBe(false)
    await advance(0)
    expect(n).toBe(2) // one background refresh, written through both tiers
    expect(l1.getEntry('p:1')?.value).toBe('1#2')
    expect((await l2.getEntry('p:1'))?.value).toBe('1#2')
    expect(await get(1)).toBe('1#2')
  })

  test('a sync function over a HybridCache of synchronous stores stays sync', () => {
    const store = new HybridCache({ l1Cache: new InMemCache(), l2Cache: new InMemCache(), l1Ttl: 5 })
    let n = 0
    const get = cache(60, { store, key: 'c:{0}' })((env: string) => `${env}#${++n}`)
    expect(get('prod')).toBe('prod#1')
    expect(get('prod')).toBe('prod#1')
    expect(n).toBe(1)
  })
})

describe('metrics', () => {
  test('a metrics exporter that throws after a load is reported, never an unhandled rejection', async () => {
    const metrics = new InMemoryMetrics()
    metrics.recordSet = () => {
      throw new Error('exporter bug')
    }
    const errors: string[] = []
    const get = cache(60, { metrics, onError: (e, info) => errors.push(`${info.operation}:${(e as Error).message}`) })(
      async function value() {
        return 1
      },
    )
    expect(await get()).toBe(1)
    await advance(0)
    expect(errors).toEqual(['set:exporter bug'])
  })

  test('hits, misses, sets, deletes and load latency by cache name', async () => {
    const metrics = new InMemoryMetrics()
    const get = cache(60, { metrics, name: 'users' })(async (id: number) => id)
    await get(1)
    await get(1)
    await get(1)
    await get(2)
    await get.invalidate(2)
    const stats = metrics.getStats()
    expect(stats.caches.users).toMatchObject({ hits: 2, misses: 2, sets: 2, deletes: 1, hitRatePercent: 50 })
    expect(stats.latency['users.load'].count).toBe(2)
    // The in-memory store's size is reported from the first write on (then every 128 writes).
    expect(stats.memory.users.entries).toBe(1)
    expect(stats.memory.users.bytes).toBeGreaterThan(0)
  })
})
