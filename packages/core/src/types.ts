/** A value, or a promise of it. Synchronous stores answer synchronously so a cache hit needs no `await`. */
export type MaybePromise<T> = T | Promise<T>

/**
 * One stored value with its timestamps, in epoch **seconds** (floats).
 * `freshUntil` is `Infinity` for an entry without expiry.
 */
export interface CacheEntry<T = unknown> {
  value: T
  freshUntil: number
  createdAt: number
}

/**
 * The storage protocol every backend implements. TTLs are seconds; `0` means no expiry.
 * The engine owns freshness: it writes entries with a physical TTL of `ttl + stale`, so a store
 * only has to drop entries whose physical TTL has passed.
 *
 * Failures: the engine hands a store's thrown error (or rejection) to the caller, so a store
 * decides how its failures surface. Remote stores degrade by default (report the failure and
 * answer as a miss / skip the write, their `onError: 'silent'`) and rethrow only when asked to
 * (`onError: 'raise'`). A custom store should do the same.
 *
 * @example
 * const store: CacheStorage = new InMemCache()
 * store.set('k', 1, 60)
 * store.getEntry('k') // { value: 1, createdAt: …, freshUntil: createdAt + 60 }
 */
export interface CacheStorage {
  /** The value, or `undefined` when absent or (physically) expired. */
  get(key: string): MaybePromise<unknown | undefined>
  /** Store `value`; `freshUntil = now + ttl`; `ttl` 0 = no expiry. */
  set(key: string, value: unknown, ttl: number): MaybePromise<void>
  delete(key: string): MaybePromise<void>
  exists(key: string): MaybePromise<boolean>
  /** The raw entry, fresh or stale, or `undefined` when absent or physically expired. */
  getEntry(key: string): MaybePromise<CacheEntry | undefined>
  /** Store an entry as given; `ttl` is the physical lifetime (default: until `freshUntil`, none if that is `Infinity`). */
  setEntry(key: string, entry: CacheEntry, ttl?: number): MaybePromise<void>
  /** Atomically store `value` only when the key is absent (or expired). Resolves to whether it stored. */
  setIfNotExists(key: string, value: unknown, ttl: number): MaybePromise<boolean>
  /** The values present among `keys` (absent keys are left out of the map). */
  getMany(keys: string[]): MaybePromise<Map<string, unknown>>
  setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): MaybePromise<void>
  /** Remove this store's keys only. */
  clear(): MaybePromise<void>
}

/** Turns values into bytes and back. */
export interface Serializer {
  dumps(value: unknown): Uint8Array
  loads(bytes: Uint8Array): unknown
}

/** What the engine and stores report. Every method takes the cache name first; never a raw key. */
export interface MetricsCollector {
  /** A cache hit; `stale` when a stale value was served (SWR). */
  recordHit(cacheName: string, stale?: boolean): void
  recordMiss(cacheName: string): void
  recordSet(cacheName: string): void
  recordDelete(cacheName: string): void
  /** How long `operation` (`get`, `set`, `load`, …) took, in seconds. */
  recordLatency(cacheName: string, operation: string, seconds: number): void
  /** A failure of `operation`; `errorType` is the error's class name (`TimeoutError`, …). */
  recordError(cacheName: string, operation: string, errorType: string): void
  recordMemoryUsage(cacheName: string, bytes: number, entries: number): void
  recordBackgroundRefresh(cacheName: string, success: boolean): void
}

/** What a background failure was doing when it failed. */
export interface ErrorInfo {
  /** The cache (or bg job) name. */
  cacheName: string
  /** The key concerned. */
  key: string
  /** `refresh` (SWR), `tick` (bg timer), `load`, `sync` (bg.read), `set`, `get`, … */
  operation: string
}

/** A callback receiving background failures. */
export type ErrorHandler = (error: unknown, info: ErrorInfo) => void

/** A distributed lock held by this process (see {@link LockingStorage}). */
export interface CacheLock {
  /** Releases the lock if this holder still owns it (compare-and-delete) and stops its heartbeat. Never rejects. */
  release(): Promise<void>
}

/**
 * Optional store capability behind `cache(ttl, { lock })`: one lock per key, shared by every
 * process using the store, so one loader call runs across processes. `RedisCache` implements it;
 * `HybridCache` and `ChainCache` forward it to their deepest level when that level has it.
 */
export interface LockingStorage {
  /**
   * Tries once to take the lock of `key` for `timeout` seconds. While held, a heartbeat resets its
   * remaining lifetime to `timeout` (never beyond). Resolves to the lock, or `null` when another
   * holder has it; rejects when the lock backend is unavailable.
   */
  tryLock(key: string, timeout: number): Promise<CacheLock | null>
}

/** A message on an {@link InvalidationBus}: keys to evict from every other process's L1, or everything. */
export type InvalidationMessage = { keys: string[] } | { clear: true }

/** Carries invalidations (keys, never values) between processes. `@acache/redis` provides one over pub/sub. */
export interface InvalidationBus {
  publish(message: InvalidationMessage): MaybePromise<void>
  /** Calls `listener` for messages published by *other* bus instances. Returns an unsubscribe function. */
  subscribe(listener: (message: InvalidationMessage) => void): () => void
}
