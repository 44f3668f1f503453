// How each library memoises `load(id)` over Redis, the way its documentation shows. Factories take
// `ctx = { url, port, client, load, ttl }` (`client`: a connected node-redis client made with
// `createClient({ url })` defaults; `ttl` in seconds) and resolve to `{ fn, close, config }`.
// Every library keeps its entries under its own prefix / namespace so none reads another's entries.
import { cache } from '@acache/core'
import { HybridCache, RedisCache } from '@acache/redis'
import { cachified } from '@epic-web/cachified'
import KeyvRedis from '@keyv/redis'
import { createCache as createDedupeCache } from 'async-cache-dedupe'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import { createCache as createCacheManager } from 'cache-manager'
import { Cacheable, CacheableMemory } from 'cacheable'
import { redisCacheAdapter } from 'cachified-redis-adapter'
import { Redis } from 'ioredis'
import { Keyv } from 'keyv'
import { CAPACITY } from './peers.mjs'

const ioredis = (ctx) => new Redis({ host: '127.0.0.1', port: ctx.port })

/** Redis as the only level: every hit is a Redis read. */
export const l2Peers = {
  acache: async (ctx) => {
    const store = new RedisCache(ctx.client, { prefix: 'acache:' })
    return {
      fn: cache(ctx.ttl, { key: 'user:{id}', store })(ctx.load),
      close: () => store.close(),
      config: '`cache()` + `RedisCache(client)` defaults: 500 ms deadline per operation, circuit breaker (5 failures, 5 s), node-redis command timeout off',
    }
  },
  bentocache: async (ctx) => {
    const connection = ioredis(ctx)
    const bento = new BentoCache({ default: 'redis', prefix: 'bento', stores: { redis: bentostore().useL2Layer(redisDriver({ connection })) } })
    return {
      fn: (id) => bento.getOrSet({ key: 'user:' + id, factory: () => ctx.load(id), ttl: ctx.ttl * 1000 }),
      close: async () => {
        await bento.disconnectAll()
        connection.disconnect()
      },
      config: 'L2 only: `redisDriver` over ioredis defaults; bentocache defaults (no soft/hard timeout, no L2 circuit breaker)',
    }
  },
  'cache-manager': async (ctx) => {
    const cm = createCacheManager({ stores: [new Keyv({ store: new KeyvRedis(ctx.url), namespace: 'cache-manager' })], ttl: ctx.ttl * 1000 })
    return {
      fn: (id) => cm.wrap('user:' + id, () => ctx.load(id)),
      close: () => cm.disconnect(),
      config: '`stores: [new Keyv({ store: new KeyvRedis(url) })]`, @keyv/redis defaults (its own node-redis 5 client)',
    }
  },
  cacheable: async (ctx) => {
    const c = new Cacheable({ primary: new Keyv({ store: new KeyvRedis(ctx.url), namespace: 'cacheable' }), ttl: ctx.ttl * 1000 })
    return {
      fn: (id) => c.getOrSet('user:' + id, () => ctx.load(id)),
      close: () => c.disconnect(),
      config: '`KeyvRedis(url)` as the primary store (Redis only), @keyv/redis defaults',
    }
  },
  cachified: async (ctx) => {
    const adapter = redisCacheAdapter(ctx.client)
    return {
      fn: (id) => cachified({ key: 'cachified:user:' + id, cache: adapter, getFreshValue: () => ctx.load(id), ttl: ctx.ttl * 1000 }),
      close: () => {},
      config: '`redisCacheAdapter(client)` on the same node-redis client as the raw baseline (defaults)',
    }
  },
  'async-cache-dedupe': async (ctx) => {
    const client = ioredis(ctx)
    const c = createDedupeCache({ ttl: ctx.ttl, storage: { type: 'redis', options: { client } } })
    c.define('getUser', (id) => ctx.load(id))
    return {
      fn: (id) => c.getUser(id),
      close: () => client.disconnect(),
      config: "`storage: { type: 'redis', options: { client: ioredis } }`, ioredis defaults",
    }
  },
}

export const l2NotApplicable = {
  'lru-cache': 'in-process only',
  'p-memoize': 'in-process only (no Redis cache documented)',
}

/** An in-process L1 in front of Redis (L2): a hit is an L1 hit. */
export const hybridPeers = {
  acache: async (ctx) => {
    const store = HybridCache.fromRedis(ctx.client, { prefix: 'acache-hy:' })
    await store.ready
    return {
      fn: cache(ctx.ttl, { key: 'user:{id}', store })(ctx.load),
      close: () => store.close(),
      config: '`HybridCache.fromRedis(client)`: L1 `InMemCache` (l1Ttl 60 s) + `RedisCache` L2 + invalidation bus',
    }
  },
  bentocache: async (ctx) => {
    const connection = ioredis(ctx)
    const bento = new BentoCache({
      default: 'tiered',
      prefix: 'bento-hy',
      stores: {
        tiered: bentostore()
          .useL1Layer(memoryDriver({ maxItems: CAPACITY }))
          .useL2Layer(redisDriver({ connection }))
          .useBus(redisBusDriver({ connection: { host: '127.0.0.1', port: ctx.port } })),
      },
    })
    return {
      fn: (id) => bento.getOrSet({ key: 'user:' + id, factory: () => ctx.load(id), ttl: ctx.ttl * 1000 }),
      close: async () => {
        await bento.disconnectAll()
        connection.disconnect()
      },
      config: 'L1 `memoryDriver` (defaults: JSON-serialized) + L2 `redisDriver` + `redisBusDriver`',
    }
  },
  'cache-manager': async (ctx) => {
    const cm = createCacheManager({
      stores: [new Keyv({ store: new CacheableMemory({ ttl: ctx.ttl * 1000, lruSize: CAPACITY }) }), new Keyv({ store: new KeyvRedis(ctx.url), namespace: 'cm-hy' })],
      ttl: ctx.ttl * 1000,
    })
    return {
      fn: (id) => cm.wrap('user:' + id, () => ctx.load(id)),
      close: () => cm.disconnect(),
      config: '`stores: [Keyv(CacheableMemory), Keyv(KeyvRedis)]` as in its README',
    }
  },
  cacheable: async (ctx) => {
    const c = new Cacheable({ secondary: new Keyv({ store: new KeyvRedis(ctx.url), namespace: 'cacheable-hy' }), ttl: ctx.ttl * 1000 })
    return {
      fn: (id) => c.getOrSet('user:' + id, () => ctx.load(id)),
      close: () => c.disconnect(),
      config: 'default memory primary + `KeyvRedis` secondary (blocking, the default)',
    }
  },
}

export const hybridNotApplicable = {
  'lru-cache': 'one level only',
  cachified: 'one cache per call (no tiers)',
  'async-cache-dedupe': 'one storage per function (no tiers)',
  'p-memoize': 'one level only',
}
