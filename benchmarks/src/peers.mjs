// How each library memoises `load(id)` under the key `user:<id>` with a TTL, in memory, the way its
// documentation shows. Every factory takes `(load, ttlSeconds)` and returns `{ fn, close? }`, where
// `fn(id)` is the memoised function. The hand-written memos are the baselines.
import { cache, InMemCache } from '@acache/core'
import { cachified, totalTtl } from '@epic-web/cachified'
import { createCache as createDedupeCache } from 'async-cache-dedupe'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { createCache as createCacheManager } from 'cache-manager'
import { Cacheable, CacheableMemory } from 'cacheable'
import ExpiryMap from 'expiry-map'
import { LRUCache } from 'lru-cache'
import pMemoize from 'p-memoize'

/** Capacity given to libraries that need a bound (lru-cache, bentocache, async-cache-dedupe): every key of a scenario fits. */
export const CAPACITY = 200_000

// ---- baselines: what a developer would write by hand ------------------------------------------

export function memoSync(fn, ttlSeconds) {
  const map = new Map()
  return (id) => {
    const key = 'user:' + id
    const e = map.get(key)
    if (e !== undefined && e.expires > Date.now()) return e.value
    const value = fn(id)
    map.set(key, { value, expires: Date.now() + ttlSeconds * 1000 })
    return value
  }
}

export function memoAsync(fn, ttlSeconds) {
  const map = new Map()
  return async (id) => {
    const key = 'user:' + id
    const e = map.get(key)
    if (e !== undefined && e.expires > Date.now()) return e.value
    const value = await fn(id)
    map.set(key, { value, expires: Date.now() + ttlSeconds * 1000 })
    return value
  }
}

/** The async memo plus in-process single-flight (what acache and most peers also do on a miss). */
export function memoAsyncSingleFlight(fn, ttlSeconds) {
  const map = new Map()
  const inflight = new Map()
  return async (id) => {
    const key = 'user:' + id
    const e = map.get(key)
    if (e !== undefined && e.expires > Date.now()) return e.value
    const pending = inflight.get(key)
    if (pending !== undefined) return pending
    const p = fn(id)
    inflight.set(key, p)
    try {
      const value = await p
      map.set(key, { value, expires: Date.now() + ttlSeconds * 1000 })
      return value
    } finally {
      inflight.delete(key)
    }
  }
}

/** The lru-cache adapter from cachified's README (an LRUCache of cachified entries). */
export function cachifiedLru(max = CAPACITY) {
  const lru = new LRUCache({ max })
  return {
    set(key, value) {
      const ttl = totalTtl(value?.metadata)
      return lru.set(key, value, { ttl: ttl === Infinity ? undefined : ttl, start: value?.metadata?.createdTime })
    },
    get: (key) => lru.get(key),
    delete: (key) => lru.delete(key),
  }
}

// ---- async: a memoised `async (id) => user` ---------------------------------------------------

export const asyncPeers = {
  memo: (load, ttl) => ({ fn: memoAsync(load, ttl) }),
  acache: (load, ttl) => ({ fn: cache(ttl, { key: 'user:{id}' })(load) }),
  'lru-cache': (load, ttl) => {
    // fetch() with a fetchMethod: lru-cache's async read-through (with single-flight).
    const lru = new LRUCache({ max: CAPACITY, ttl: ttl * 1000, fetchMethod: (key) => load(Number(key.slice(5))) })
    return { fn: (id) => lru.fetch('user:' + id) }
  },
  bentocache: (load, ttl) => {
    // Memory driver with its defaults (values serialized to JSON in L1) and room for every key.
    const bento = new BentoCache({ default: 'memory', stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: CAPACITY })) } })
    return { fn: (id) => bento.getOrSet({ key: 'user:' + id, factory: () => load(id), ttl: ttl * 1000 }), close: () => bento.disconnectAll() }
  },
  'cache-manager': (load, ttl) => {
    // createCache() defaults: one in-memory Keyv (a Map, values serialized by Keyv).
    const cm = createCacheManager({ ttl: ttl * 1000 })
    return { fn: (id) => cm.wrap('user:' + id, () => load(id)), close: () => cm.disconnect() }
  },
  cacheable: (load, ttl) => {
    // Cacheable defaults: a CacheableMemory primary (values cloned on read).
    const c = new Cacheable({ ttl: ttl * 1000 })
    return { fn: (id) => c.getOrSet('user:' + id, () => load(id)), close: () => c.disconnect() }
  },
  cachified: (load, ttl) => {
    const lru = cachifiedLru()
    return { fn: (id) => cachified({ key: 'user:' + id, cache: lru, getFreshValue: () => load(id), ttl: ttl * 1000 }) }
  },
  'async-cache-dedupe': (load, ttl) => {
    const c = createDedupeCache({ ttl, storage: { type: 'memory', options: { size: CAPACITY } } })
    c.define('getUser', (id) => load(id))
    return { fn: (id) => c.getUser(id) }
  },
  'p-memoize': (load, ttl) => {
    // p-memoize's README: time-based expiry through an ExpiryMap cache.
    const fn = pMemoize(load, { cache: new ExpiryMap(ttl * 1000), cacheKey: ([id]) => 'user:' + id })
    return { fn }
  },
}

// ---- sync: a memoised `(id) => user`, for the libraries with a synchronous API -----------------

export const syncPeers = {
  memo: (load, ttl) => ({ fn: memoSync(load, ttl) }),
  acache: (load, ttl) => ({ fn: cache(ttl, { key: 'user:{id}' })(load) }),
  'lru-cache': (load, ttl) => {
    // memo() with a memoMethod: lru-cache's synchronous read-through.
    const lru = new LRUCache({ max: CAPACITY, ttl: ttl * 1000, memoMethod: (key) => load(Number(key.slice(5))) })
    return { fn: (id) => lru.memo('user:' + id) }
  },
  cacheable: (load, ttl) => {
    // CacheableMemory (cacheable's synchronous store) with its defaults: values cloned on read.
    const mem = new CacheableMemory({ ttl: ttl * 1000 })
    return { fn: (id) => mem.getOrSet('user:' + id, () => load(id)) }
  },
}

export const syncNotApplicable = {
  bentocache: 'no synchronous API (getOrSet returns a promise)',
  'cache-manager': 'no synchronous API (Keyv is promise-based)',
  cachified: 'no synchronous API',
  'async-cache-dedupe': 'async only',
  'p-memoize': 'memoises promise-returning functions only',
}

// ---- memory: one store holding N entries through its own set() --------------------------------

/** `{ name: () => ({ set(key, value), size(), get(key), close? }) }` — set may return a promise. */
export const memoryStores = {
  'Map (memo)': (ttl) => {
    const map = new Map()
    return { set: (k, v) => void map.set(k, { value: v, expires: Date.now() + ttl * 1000 }), get: (k) => map.get(k)?.value, size: () => map.size }
  },
  acache: (ttl) => {
    const s = new InMemCache()
    return { set: (k, v) => s.set(k, v, ttl), get: (k) => s.get(k), size: () => s.size }
  },
  'lru-cache': (ttl, n) => {
    const lru = new LRUCache({ max: n, ttl: ttl * 1000 })
    return { set: (k, v) => void lru.set(k, v), get: (k) => lru.get(k), size: () => lru.size }
  },
  cacheable: (ttl) => {
    const mem = new CacheableMemory({ ttl: ttl * 1000 })
    return { set: (k, v) => mem.set(k, v), get: (k) => mem.get(k), size: () => mem.size }
  },
  bentocache: (ttl, n) => {
    const bento = new BentoCache({ default: 'memory', stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: n })) } })
    let size = 0
    return {
      set: async (k, v) => {
        await bento.set({ key: k, value: v, ttl: ttl * 1000 })
        size++
      },
      get: (k) => bento.get({ key: k }),
      size: () => size,
      close: () => bento.disconnectAll(),
    }
  },
  'cache-manager': (ttl) => {
    const cm = createCacheManager({ ttl: ttl * 1000 })
    let size = 0
    return {
      set: async (k, v) => {
        await cm.set(k, v)
        size++
      },
      get: (k) => cm.get(k),
      size: () => size,
      close: () => cm.disconnect(),
    }
  },
  'p-memoize (ExpiryMap)': (ttl) => {
    const m = new ExpiryMap(ttl * 1000)
    return { set: (k, v) => void m.set(k, v), get: (k) => m.get(k), size: () => m.size }
  },
}

export const memoryNotApplicable = {
  cachified: 'no store of its own (it uses the cache you give it, e.g. the lru-cache above)',
  'async-cache-dedupe': 'its store is internal to each defined function (no set API)',
}
