import { ChainCache, type ChainErrorHandler } from './chain-cache.js'
import { parseDuration } from './duration.js'
import { checkOptionKeys } from './error-reporting.js'
import { InMemCache } from './in-mem-cache.js'
import { resolveStore } from './store-resolution.js'
import type { StoreOption } from './cache.js'
import type { CacheStorage } from './types.js'

/** Options of {@link HybridCache}. */
export interface HybridCacheOptions {
  /** The fast level (an instance, a class or a factory). Default: a new unbounded `InMemCache`. */
  l1Cache?: StoreOption
  /**
   * The longest an entry stays in L1, in seconds (or `'30s'`, `'5m'`, …). Default 60. It bounds how
   * long a process may serve a value that another process has since changed in L2.
   */
  l1Ttl?: number | string
  /** The shared level (an instance, a class or a factory), usually remote (Redis, files, S3…). Required. */
  l2Cache: StoreOption
  /**
   * How long L2 keeps writes made **without** expiry (`ttl` 0). Default `2 × l1Ttl`. `0` = for ever.
   * Writes with a `ttl` keep it in L2 (they are not capped by `l2Ttl`).
   */
  l2Ttl?: number | string
  /** Receives L1 failures (which never reach the caller). Default: `console.warn`, at most once a minute. */
  onError?: ChainErrorHandler
  /** Shown in error reports. Default `'HybridCache'`. */
  name?: string
}

/**
 * Two levels: a fast, usually in-process L1 in front of a shared, usually remote L2.
 * A two-level {@link ChainCache} with these rules:
 *
 * - **Reads**: L1, then L2. An L2 hit is copied into L1 with its original `createdAt`/`freshUntil`,
 *   for `min(l1Ttl, freshUntil - now)`; a stale entry is served but not copied.
 * - **Writes** go to both levels, with the same timestamps. L1 keeps the entry for
 *   `min(ttl || ∞, l1Ttl)`. L2 keeps it for `ttl` when `ttl > 0`, and for `l2Ttl` when `ttl` is 0
 *   (no expiry) — so "no expiry" still ages out of the shared store; the entry's `freshUntil`
 *   stays `Infinity`.
 * - **`setIfNotExists`** is decided by L2 (atomic across processes); when it stored, L1 is written.
 * - `delete` / `clear` act on both levels (`clear` of L2 removes only its own keys).
 * - **Sync stays sync**: when both levels answer synchronously so does the hybrid; an L1 hit is
 *   synchronous even in front of an async L2.
 * - **Failures**: an L1 failure is reported through `onError` and skipped (reads go to L2); an L2
 *   failure is thrown / rejects.
 *
 * L1 is per process: another process's write or delete reaches this L1 only when its copy expires
 * (at most `l1Ttl`), unless an invalidation bus (`@acache/redis`) is wired in.
 *
 * @example
 * ```ts
 * import { cache, HybridCache, InMemCache } from '@acache/core'
 * import { RedisCache } from '@acache/redis'
 *
 * const store = new HybridCache({
 *   l1Cache: new InMemCache({ maxSize: 5_000 }),
 *   l1Ttl: 30,                                    // each process re-reads Redis at least every 30 s
 *   l2Cache: new RedisCache(redis, { prefix: 'users:' }),
 * })
 * const getUser = cache(300, { key: 'user:{id}', store })(async (id: number) => db.fetchUser(id))
 * ```
 */
export class HybridCache extends ChainCache {
  /** The L1 TTL cap, in seconds. */
  readonly l1Ttl: number
  /** The L2 TTL for writes without expiry, in seconds (0 = none). */
  readonly l2Ttl: number

  constructor(options: HybridCacheOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('HybridCache: options must be an object with at least "l2Cache"')
    }
    checkOptionKeys('HybridCache', options, ['l1Cache', 'l1Ttl', 'l2Cache', 'l2Ttl', 'onError', 'name'])
    if (options.l2Cache === undefined) throw new TypeError('HybridCache: option "l2Cache" is required')
    const l1 = options.l1Cache === undefined ? new InMemCache() : resolveStore(options.l1Cache, 'l1Cache')
    const l2 = resolveStore(options.l2Cache, 'l2Cache')
    const l1Ttl = options.l1Ttl === undefined ? 60 : parseDuration(options.l1Ttl, 'l1Ttl', { allowZero: false })
    const l2Ttl = options.l2Ttl === undefined ? 2 * l1Ttl : parseDuration(options.l2Ttl, 'l2Ttl')
    super([l1, l2], { onError: options.onError, name: options.name ?? 'HybridCache' })
    this.l1Ttl = l1Ttl
    this.l2Ttl = l2Ttl
  }

  /** The fast level. */
  get l1(): CacheStorage {
    return this.levels[0]
  }

  /** The shared level. */
  get l2(): CacheStorage {
    return this.levels[1]
  }

  protected override levelTtl(level: number, ttl: number): number {
    if (level === 0) return ttl === 0 ? this.l1Ttl : Math.min(ttl, this.l1Ttl)
    return ttl === 0 ? this.l2Ttl : ttl
  }

  protected override promotionCap(level: number): number {
    return level === 0 ? this.l1Ttl : 0
  }
}
