import { HybridCache as CoreHybridCache, InMemCache, type HybridCacheOptions, type StoreOption } from '@acache/core'
import { RedisInvalidationBus } from './invalidation-bus.js'
import { RedisCache, type RedisCacheOptions } from './redis-cache.js'
import type { RedisClientLike } from './redis-client.js'

/** Options of {@link HybridCache.fromRedis}: the `RedisCache` options plus the L1 side. */
export interface FromRedisOptions extends RedisCacheOptions {
  /** L1 TTL cap (seconds or a duration string). Default 60. */
  l1Ttl?: number | string
  /** L2 TTL for writes without expiry. Default `2 × l1Ttl`. */
  l2Ttl?: number | string
  /** The L1 store. Default: a new unbounded `InMemCache`. */
  l1Cache?: StoreOption
  /**
   * The invalidation bus: `true` (default) creates a {@link RedisInvalidationBus} on channel
   * `acache:invalidate:<prefix>` (its own subscriber connection); `false` for none.
   */
  bus?: boolean
}

/**
 * Core's `HybridCache` (instances are `@acache/core` `HybridCache`s) with a Redis shortcut:
 * `HybridCache.fromRedis(client, options)` builds an in-memory L1 in front of a `RedisCache` L2 and
 * wires a Redis pub/sub invalidation bus, so a write, delete or clear in one process evicts the key
 * from every other process's L1. The distributed lock of the `RedisCache` is forwarded
 * (`cache(ttl, { lock: true, store: hybrid })` works).
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { cache } from '@acache/core'
 * import { HybridCache } from '@acache/redis'
 *
 * const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect()
 * const store = HybridCache.fromRedis(client, { prefix: 'users:', l1Ttl: 30 })
 * const getUser = cache(300, { key: 'user:{id}', store, lock: true })(async (id: number) => db.fetchUser(id))
 * // on shutdown
 * await store.close()
 * ```
 */
export class HybridCache extends CoreHybridCache {
  /** The Redis level, when built by {@link HybridCache.fromRedis}. */
  redis: RedisCache | undefined
  private ownedBus: RedisInvalidationBus | undefined

  /**
   * An `InMemCache` L1 (or `l1Cache`) over a `RedisCache` L2 built from `client` and the
   * `RedisCache` options, with an invalidation bus unless `bus: false`.
   */
  static fromRedis(client: RedisClientLike, options: FromRedisOptions = {}): HybridCache {
    const { l1Ttl, l2Ttl, l1Cache, bus = true, ...redisOptions } = options
    if (typeof bus !== 'boolean') throw new TypeError('HybridCache.fromRedis: option "bus" must be a boolean')
    const redis = new RedisCache(client, redisOptions)
    const ownedBus = bus ? new RedisInvalidationBus(client, { channel: `acache:invalidate:${redis.prefix}`, onError: redisOptions.onError, metrics: redisOptions.metrics, logger: redisOptions.logger }) : undefined
    const hybridOptions: HybridCacheOptions = { l2Cache: redis, l1Cache: l1Cache ?? new InMemCache(), bus: ownedBus }
    if (l1Ttl !== undefined) hybridOptions.l1Ttl = l1Ttl
    if (l2Ttl !== undefined) hybridOptions.l2Ttl = l2Ttl
    const hybrid = new HybridCache(hybridOptions)
    hybrid.redis = redis
    hybrid.ownedBus = ownedBus
    return hybrid
  }

  /** Resolves once the invalidation bus is subscribed (at once without a bus). */
  get ready(): Promise<void> {
    return this.ownedBus?.ready ?? Promise.resolve()
  }

  /**
   * Detaches from the bus, closes the bus's subscriber connection and stops the `RedisCache`'s
   * timers (what `fromRedis` created). The client stays open. Idempotent.
   */
  async close(): Promise<void> {
    this.detach()
    await this.ownedBus?.close()
    this.redis?.close()
  }
}
