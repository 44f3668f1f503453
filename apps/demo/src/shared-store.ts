/**
 * The store the writer process (`bg.write`) and the server (`bg.read`) share: a directory by
 * default, Redis when configured. Both processes build it with the same function, so they agree
 * on where the value lives and how it is encoded (MessagePack, which keeps the writer's `Date`).
 */
import { join } from 'node:path'
import type { CacheStorage, ErrorHandler, MetricsCollector } from '@acache/core'
import { LocalFileCache } from '@acache/file'
import { msgpack } from '@acache/msgpack'
import { RedisCache, type RedisClientLike } from '@acache/redis'

/** The key the writer refreshes and the server mirrors. */
export const SHARED_KEY = 'exchange_rates'
/** Redis prefix of the shared store (the cache tier uses {@link REDIS_TIER_PREFIX}). */
export const REDIS_SHARED_PREFIX = 'acache-demo:shared:'
/** Redis prefix of the cache tier. */
export const REDIS_TIER_PREFIX = 'acache-demo:'
/** How often the writer refreshes the shared value, seconds. */
export const WRITER_INTERVAL = 2
/** How long a written value is valid, seconds (a few missed ticks are tolerated). */
export const WRITER_TTL = 10

/** What the writer publishes under {@link SHARED_KEY}. */
export interface SharedRates {
  seq: number
  writerPid: number
  writtenAt: Date
  base: string
  rates: Record<string, number>
}

export interface SharedStoreOptions {
  dataDir: string
  /** A connected node-redis client: the store is then Redis. */
  redis?: RedisClientLike
  metrics?: MetricsCollector
  onError?: ErrorHandler
}

/**
 * The shared store: `RedisCache` (prefix `acache-demo:shared:`) with a Redis client, else a
 * `LocalFileCache` in `<dataDir>/shared`.
 *
 * @example
 * const { store } = createSharedStore({ dataDir: '/tmp/demo' })
 * bg.write(2, { key: SHARED_KEY, store })(loadRates)
 */
export function createSharedStore(options: SharedStoreOptions): SharedStore {
  const common = { serializer: msgpack, metrics: options.metrics, onError: options.onError ?? ('silent' as const) }
  if (options.redis !== undefined) {
    const redis = new RedisCache(options.redis, { ...common, prefix: REDIS_SHARED_PREFIX, name: 'shared:redis' })
    return { kind: 'redis', store: redis, close: () => redis.close() }
  }
  const dir = join(options.dataDir, 'shared')
  return { kind: 'file', store: new LocalFileCache(dir, { ...common, name: 'shared:file' }), close: () => {} }
}

/** A shared store and what it is. */
export interface SharedStore {
  kind: 'file' | 'redis'
  store: CacheStorage
  /** Stops the store's own timers (the Redis client is closed by its owner). */
  close(): void
}
