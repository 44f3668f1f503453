import { ChainCache, type ChainErrorHandler } from './chain-cache.js'
import { parseDuration } from './duration.js'
import { checkOptionKeys, isThenable } from './error-reporting.js'
import { InMemCache } from './in-mem-cache.js'
import { resolveStore } from './store-resolution.js'
import type { StoreOption } from './cache.js'
import type { CacheEntry, CacheStorage, InvalidationBus, InvalidationMessage, MaybePromise } from './types.js'

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
  /**
   * Carries invalidations between processes (e.g. `RedisInvalidationBus` from `@acache/redis`).
   * Every write, delete and clear publishes its keys (never values) once L2 has it; a message from
   * another process evicts those keys from this L1 only. Default: none (L1 copies age out within
   * `l1Ttl`).
   */
  bus?: InvalidationBus
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
 * (at most `l1Ttl`), unless an invalidation `bus` is wired in (`@acache/redis` provides one over
 * Redis pub/sub, and `HybridCache.fromRedis` there wires it for you). With a bus, `set`,
 * `setEntry`, `setMany`, `setIfNotExists` (when it stored), `delete` and `clear` publish their keys
 * (or "clear") after L2 took the change; other processes evict those keys from their L1. A failed
 * publish is reported through `onError`, never thrown. L1 hits stay synchronous.
 *
 * When L2 offers a distributed lock (`tryLock`), the hybrid forwards it (see {@link ChainCache}).
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
  /** The invalidation bus, when one was given. */
  readonly bus: InvalidationBus | undefined
  private readonly unsubscribe: (() => void) | undefined

  constructor(options: HybridCacheOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('HybridCache: options must be an object with at least "l2Cache"')
    }
    checkOptionKeys('HybridCache', options, ['l1Cache', 'l1Ttl', 'l2Cache', 'l2Ttl', 'onError', 'name', 'bus'])
    const bus = options.bus
    if (bus !== undefined && (bus === null || typeof bus.publish !== 'function' || typeof bus.subscribe !== 'function')) {
      throw new TypeError('HybridCache: option "bus" must be an InvalidationBus (an object with publish() and subscribe())')
    }
    if (options.l2Cache === undefined) throw new TypeError('HybridCache: option "l2Cache" is required')
    const l1 = options.l1Cache === undefined ? new InMemCache() : resolveStore(options.l1Cache, 'l1Cache')
    const l2 = resolveStore(options.l2Cache, 'l2Cache')
    const l1Ttl = options.l1Ttl === undefined ? 60 : parseDuration(options.l1Ttl, 'l1Ttl', { allowZero: false })
    const l2Ttl = options.l2Ttl === undefined ? 2 * l1Ttl : parseDuration(options.l2Ttl, 'l2Ttl')
    super([l1, l2], { onError: options.onError, name: options.name ?? 'HybridCache' })
    this.l1Ttl = l1Ttl
    this.l2Ttl = l2Ttl
    this.bus = bus
    this.unsubscribe = bus?.subscribe((message) => this.evict(message))
  }

  /**
   * Stops listening to the bus (the bus itself, and L2, stay open: they may be shared). Idempotent.
   *
   * @example
   * ```ts
   * hybrid.detach()
   * ```
   */
  detach(): void {
    this.unsubscribe?.()
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

  // ---------------------------------------------------------------- invalidation bus

  override set(key: string, value: unknown, ttl: number): MaybePromise<void> {
    return this.published(super.set(key, value, ttl), { keys: [key] }, key)
  }

  override setEntry(key: string, entry: CacheEntry, ttl?: number): MaybePromise<void> {
    return this.published(super.setEntry(key, entry, ttl), { keys: [key] }, key)
  }

  override setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): MaybePromise<void> {
    const written = super.setMany(items, ttl)
    if (this.bus === undefined) return written
    const keys = Object.prototype.toString.call(items) === '[object Map]' ? [...(items as Map<string, unknown>).keys()] : Object.keys(items)
    return keys.length === 0 ? written : this.published(written, { keys }, keys.join(' ').slice(0, 200))
  }

  override setIfNotExists(key: string, value: unknown, ttl: number): MaybePromise<boolean> {
    const won = super.setIfNotExists(key, value, ttl)
    if (this.bus === undefined) return won
    const after = (stored: boolean): MaybePromise<boolean> => {
      if (!stored) return false
      const sent = this.publish({ keys: [key] }, key)
      return isThenable(sent) ? sent.then(() => true) : true
    }
    return isThenable(won) ? Promise.resolve(won).then(after) : after(won)
  }

  override delete(key: string): MaybePromise<void> {
    return this.published(super.delete(key), { keys: [key] }, key)
  }

  override clear(): MaybePromise<void> {
    return this.published(super.clear(), { clear: true }, '')
  }

  /** Publishes `message` once `written` settled successfully (a failed write publishes nothing). */
  private published(written: MaybePromise<void>, message: InvalidationMessage, key: string): MaybePromise<void> {
    if (this.bus === undefined) return written
    return isThenable(written) ? Promise.resolve(written).then(() => this.publish(message, key)) : this.publish(message, key)
  }

  /** Publishes, reporting (never throwing) a failure: the write itself succeeded. */
  private publish(message: InvalidationMessage, key: string): MaybePromise<void> {
    const operation = 'clear' in message ? 'publish clear' : 'publish'
    let sent: MaybePromise<void>
    try {
      sent = this.bus!.publish(message)
    } catch (error) {
      this.report(error, 1, operation, key)
      return undefined
    }
    if (!isThenable(sent)) return undefined
    return Promise.resolve(sent).then(undefined, (error: unknown) => this.report(error, 1, operation, key))
  }

  /** A message from another process: drop those keys from L1 only (L2 already has the change). */
  private evict(message: InvalidationMessage): void {
    this.invalidationEpoch++
    const l1 = this.l1
    const fail = (error: unknown, key: string) => this.report(error, 0, 'invalidate', key)
    const guard = (key: string, run: () => MaybePromise<void>) => {
      try {
        const done = run()
        if (isThenable(done)) Promise.resolve(done).then(undefined, (error: unknown) => fail(error, key))
      } catch (error) {
        fail(error, key)
      }
    }
    if ('clear' in message) {
      guard('', () => l1.clear())
      return
    }
    if (!Array.isArray(message.keys)) return
    for (const key of message.keys) if (typeof key === 'string') guard(key, () => l1.delete(key))
  }
}
