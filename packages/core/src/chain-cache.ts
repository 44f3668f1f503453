import { preciseNow } from './clock.js'
import { parseDuration } from './duration.js'
import { checkOptionKeys, isThenable } from './error-reporting.js'
import { resolveStore, supportsLocking, validateCacheStorage } from './store-resolution.js'
import type { StoreOption } from './cache.js'
import type { CacheEntry, CacheLock, CacheStorage, ErrorInfo, MaybePromise } from './types.js'

// ------------------------------------------------------------------------------------------------
// MaybePromise plumbing: chain results without turning a synchronous answer into a promise.
// ------------------------------------------------------------------------------------------------

/** `f(value)` now when `value` is not a promise, `value.then(f)` otherwise. */
function then<T, R>(value: MaybePromise<T>, f: (v: T) => MaybePromise<R>): MaybePromise<R> {
  return isThenable(value) ? Promise.resolve(value).then(f) : f(value as T)
}

/** Runs `call`, sending a synchronous throw or a rejection to `recover` (whose result replaces it). */
function attempt<T>(call: () => MaybePromise<T>, recover: (error: unknown) => MaybePromise<T>): MaybePromise<T> {
  let result: MaybePromise<T>
  try {
    result = call()
  } catch (error) {
    return recover(error)
  }
  return isThenable(result) ? Promise.resolve(result).then(undefined, recover) : result
}

/** Waits for every value: synchronous when none is a promise. */
function all(values: MaybePromise<unknown>[]): MaybePromise<void> {
  for (const v of values) {
    if (isThenable(v)) return Promise.all(values).then(noop)
  }
  return undefined
}

function noop(): void {}

function checkTtl(ttl: unknown, method: string): number {
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl < 0) {
    throw new TypeError(`${method}: ttl must be a number of seconds >= 0 (got ${String(ttl)})`)
  }
  return ttl
}

// ------------------------------------------------------------------------------------------------

/** What a level failure was doing: {@link ErrorInfo} plus the level's index (0 = top). */
export interface ChainErrorInfo extends ErrorInfo {
  /** The failing level's index in `levels` (0 = top). */
  level: number
}

/** Receives failures of the upper levels (which never reach the caller). */
export type ChainErrorHandler = (error: unknown, info: ChainErrorInfo) => void

/** Options of {@link ChainCache}. */
export interface ChainCacheOptions {
  /**
   * Per-level TTL caps (seconds or duration strings like `'5m'`), index = level. `undefined` or `0`
   * = no cap. A write with `ttl` stores into level `i` for `min(ttl, ttls[i])` — and for `ttls[i]`
   * when `ttl` is 0 (no expiry).
   */
  ttls?: ReadonlyArray<number | string | undefined>
  /**
   * Called with failures of any level but the deepest (reads that fell through, writes and
   * promotions that were skipped). Default: `console.warn`, at most once per level per minute.
   */
  onError?: ChainErrorHandler
  /** Shown in error reports (`info.cacheName`). Default `'ChainCache'`. */
  name?: string
}

const WARN_INTERVAL_MS = 60_000

/**
 * A tiered store: levels from fastest (index 0, e.g. `InMemCache`) to deepest (e.g. Redis, S3).
 * It is itself a `CacheStorage`, so it can be used wherever a store is taken (and nested).
 *
 * - **Read-through with promotion.** `get`/`getEntry` walk the levels top-down. A hit at level `i`
 *   is written into every level above it with its *original* `createdAt`/`freshUntil` (`setEntry`),
 *   for `min(that level's cap, freshUntil - now)` seconds, so an upper copy never outlives the
 *   entry's freshness. A stale entry (`now >= freshUntil`) is returned but not promoted: every read
 *   of it keeps going to the level that holds it. Promotion writes are awaited (so the next read
 *   hits the upper level); they never fail the read.
 * - **Write-through.** `set`, `setEntry` and `setMany` write every level, capping each level's
 *   physical TTL by its `ttls` entry (`ttl` 0 = no expiry → the level's cap, if any). All levels
 *   get the same `createdAt`/`freshUntil`. The deepest level is written first and the upper levels
 *   (concurrently) only once it succeeded, so a failed write leaves no value in an upper level.
 * - **`setIfNotExists` is decided by the deepest level** (the shared, authoritative one); when it
 *   stored, the value is written into the upper levels.
 * - `delete` and `clear` act on every level. `getMany` asks the top level for all keys, and each
 *   lower level only for the keys still missing (with `getEntry` per key, so hits can be promoted
 *   with their timestamps).
 * - **Sync stays sync.** A call answers synchronously when every level it touched answered
 *   synchronously (an all-`InMemCache` chain never returns a promise; an L1 hit in front of an
 *   async level is synchronous too), and with a promise otherwise.
 * - **Failures.** A failing level other than the deepest is reported through `onError` and skipped:
 *   reads fall through to the next level, writes to it are dropped. A failure of the deepest
 *   level (the source of truth) is thrown / rejects, so the caller — usually the `cache()` engine
 *   with its own `onError` — decides.
 * - `set(key, undefined)` throws a `TypeError` (undefined is never stored).
 * - **Locking.** When the deepest level offers a distributed lock (`tryLock`, e.g. `RedisCache`),
 *   the chain forwards `tryLock` to it, so `cache(ttl, { lock: true, store: chain })` works; without
 *   one the chain has no `tryLock` at all (`supportsLocking(chain)` is false).
 *
 * @example
 * ```ts
 * import { ChainCache, InMemCache } from '@acache/core'
 * import { RedisCache } from '@acache/redis'
 * import { S3Cache } from '@acache/s3'
 *
 * // memory (≤ 1 min) → Redis (≤ 1 h) → S3 (as long as the write says)
 * const store = ChainCache.build(
 *   new InMemCache({ maxSize: 10_000 }),
 *   new RedisCache(redis, { prefix: 'app:' }),
 *   new S3Cache({ bucket: 'cache', prefix: 'app/' }),
 *   { ttls: [60, '1h', undefined] },
 * )
 * await store.set('report:2024', report, 86_400)
 * await store.get('report:2024') // from memory; after a restart from Redis or S3, then promoted
 * ```
 */
export class ChainCache implements CacheStorage {
  /** The levels, top (fastest) first. */
  readonly levels: readonly CacheStorage[]
  /** The per-level caps in seconds (`0` = no cap), index = level. */
  readonly ttls: readonly number[]
  /** The name used in error reports. */
  readonly name: string
  /**
   * The deepest level's distributed lock, when it has one (see {@link LockingStorage}); absent
   * otherwise, so `supportsLocking(chain)` tells whether `cache(ttl, { lock: true })` can use it.
   */
  declare readonly tryLock?: (key: string, timeout: number) => Promise<CacheLock | null>
  private readonly onError: ChainErrorHandler | undefined
  private readonly lastWarned = new Map<number, number>()
  /**
   * Bumped on every external invalidation (see `HybridCache`'s bus). A read that fell through to a
   * lower level does not promote what it found when the epoch moved meanwhile: the value may be the
   * one the invalidation was about.
   * @internal
   */
  protected invalidationEpoch = 0

  /**
   * Builds a chain from stores given top (fastest) first, optionally followed by
   * `{ ttls, onError, name }`. Each store may be an instance, a class (constructed once with no
   * arguments) or a factory (called once).
   *
   * @example
   * ```ts
   * const store = ChainCache.build(InMemCache, () => new RedisCache(redis, { prefix: 'a:' }), { ttls: [30] })
   * ```
   */
  static build(...args: Array<StoreOption | ChainCacheOptions>): ChainCache {
    const last = args[args.length - 1]
    const hasOptions =
      args.length > 0 &&
      last !== null &&
      typeof last === 'object' &&
      !validateCacheStorage(last) &&
      (Object.getPrototypeOf(last) === Object.prototype || Object.getPrototypeOf(last) === null)
    return new ChainCache((hasOptions ? args.slice(0, -1) : args) as StoreOption[], (hasOptions ? last : undefined) as ChainCacheOptions)
  }

  /** Same as {@link ChainCache.build} with the stores as an array. */
  constructor(stores: readonly StoreOption[], options: ChainCacheOptions = {}) {
    checkOptionKeys('ChainCache', options, ['ttls', 'onError', 'name'])
    if (!Array.isArray(stores) || stores.length === 0) {
      throw new TypeError('ChainCache: give at least one store')
    }
    this.levels = Object.freeze(stores.map((s, i) => resolveStore(s, `stores[${i}]`)))
    const ttls = options.ttls ?? []
    if (!Array.isArray(ttls)) throw new TypeError('ChainCache: option "ttls" must be an array (index = level)')
    if (ttls.length > this.levels.length) {
      throw new TypeError(`ChainCache: option "ttls" has ${ttls.length} entries for ${this.levels.length} levels`)
    }
    this.ttls = Object.freeze(this.levels.map((_, i) => (ttls[i] === undefined ? 0 : parseDuration(ttls[i], `ttls[${i}]`))))
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new TypeError('ChainCache: option "onError" must be a function (error, info) => void')
    }
    this.onError = options.onError
    this.name = options.name ?? this.constructor.name
    const deepest = this.levels[this.levels.length - 1]
    if (supportsLocking(deepest)) {
      // An own property, present only when the deepest level can lock.
      this.tryLock = (key: string, timeout: number) => deepest.tryLock(key, timeout)
    }
  }

  // ---------------------------------------------------------------- policy hooks (HybridCache overrides)

  /**
   * The physical TTL for level `level` of a write whose physical TTL is `ttl` (0 = no expiry).
   * Returns 0 for no expiry.
   * @internal
   */
  protected levelTtl(level: number, ttl: number): number {
    const cap = this.ttls[level]
    if (cap === 0) return ttl
    return ttl === 0 ? cap : Math.min(ttl, cap)
  }

  /** The cap (seconds, 0 = none) for an entry promoted into `level`. @internal */
  protected promotionCap(level: number): number {
    return this.ttls[level]
  }

  // ---------------------------------------------------------------- error handling

  /** Reports a failure that does not reach the caller (`onError`, else a rate-limited warning). @internal */
  protected report(error: unknown, level: number, operation: string, key: string): void {
    const info: ChainErrorInfo = { cacheName: this.name, key, operation, level }
    if (this.onError !== undefined) {
      try {
        this.onError(error, info)
      } catch {
        // a throwing onError must not turn a skipped level into a failed call
      }
      return
    }
    const now = Date.now()
    const last = this.lastWarned.get(level)
    if (last !== undefined && now - last < WARN_INTERVAL_MS) return
    this.lastWarned.set(level, now)
    console.warn(
      `acache: ${this.name} level ${level} failed (${operation} ${JSON.stringify(key)}); skipped it. ` +
        'Further failures of this level are not logged for a minute (pass onError to see all).',
      error,
    )
  }

  private get deepest(): number {
    return this.levels.length - 1
  }

  /** Calls `op` on level `i`. For upper levels failures are reported and replaced by `fallback`. */
  private guarded<T>(i: number, operation: string, key: string, op: () => MaybePromise<T>, fallback: T): MaybePromise<T> {
    if (i === this.deepest) return op()
    return attempt(op, (error) => {
      this.report(error, i, operation, key)
      return fallback
    })
  }

  /**
   * Runs a write on every level. Stores (`deepestFirst`): the deepest level first, then — only when it
   * succeeded — the upper levels concurrently, so a failed write never leaves a value in an upper
   * level that the source of truth does not hold. Removals: every level at once.
   * Upper-level failures are reported, the deepest's thrown.
   */
  private writeAll(
    operation: string,
    key: string,
    op: (level: CacheStorage, i: number) => MaybePromise<void>,
    deepestFirst = true,
  ): MaybePromise<void> {
    const deepest = this.deepest
    const upper = (): MaybePromise<void> => {
      const results: MaybePromise<void>[] = []
      for (let i = 0; i < deepest; i++) {
        const level = this.levels[i]
        results.push(this.guarded(i, operation, key, () => op(level, i), undefined))
      }
      return all(results)
    }
    if (deepestFirst) return then(op(this.levels[deepest], deepest), upper)
    const first = upper()
    const last = op(this.levels[deepest], deepest)
    return all([first, last])
  }

  // ---------------------------------------------------------------- reads

  get(key: string): MaybePromise<unknown | undefined> {
    return then(this.getEntry(key), (entry) => (entry === undefined ? undefined : entry.value))
  }

  getEntry(key: string): MaybePromise<CacheEntry | undefined> {
    return this.readFrom(0, key)
  }

  private readFrom(i: number, key: string): MaybePromise<CacheEntry | undefined> {
    const level = this.levels[i]
    if (i === this.deepest) return level.getEntry(key)
    let failed = false
    const got = attempt<CacheEntry | undefined>(
      () => level.getEntry(key),
      (error) => {
        failed = true
        this.report(error, i, 'getEntry', key)
        return undefined
      },
    )
    return then(got, (entry) => {
      if (entry !== undefined) return entry
      const epoch = this.invalidationEpoch
      return then(this.readFrom(i + 1, key), (found) => {
        if (found === undefined || failed || epoch !== this.invalidationEpoch) return found
        return then(this.promote(i, key, found), () => found)
      })
    })
  }

  /** Writes `entry` (found below) into level `i` when it is still fresh. */
  private promote(i: number, key: string, entry: CacheEntry): MaybePromise<void> {
    const remaining = entry.freshUntil - preciseNow()
    if (!(remaining > 0)) return undefined // stale (or NaN): served, not promoted
    const cap = this.promotionCap(i)
    const ttl = cap > 0 ? Math.min(cap, remaining) : remaining === Infinity ? 0 : remaining
    const level = this.levels[i]
    return this.guarded(i, 'promote', key, () => level.setEntry(key, entry, ttl), undefined)
  }

  exists(key: string): MaybePromise<boolean> {
    const step = (i: number): MaybePromise<boolean> => {
      const level = this.levels[i]
      const found = this.guarded(i, 'exists', key, () => level.exists(key), false)
      return i === this.deepest ? found : then(found, (yes) => (yes ? true : step(i + 1)))
    }
    return step(0)
  }

  getMany(keys: string[]): MaybePromise<Map<string, unknown>> {
    if (!Array.isArray(keys)) throw new TypeError('getMany: keys must be an array of strings')
    const wanted = [...new Set(keys)]
    const found = new Map<string, unknown>()
    const finish = (): Map<string, unknown> => {
      const out = new Map<string, unknown>()
      for (const k of wanted) if (found.has(k)) out.set(k, found.get(k))
      return out
    }
    if (wanted.length === 0) return new Map()

    const step = (i: number, missing: string[]): MaybePromise<Map<string, unknown>> => {
      if (missing.length === 0 || i === this.levels.length) return finish()
      const level = this.levels[i]
      if (i === 0) {
        const got = this.guarded(0, 'getMany', missing.join(' ').slice(0, 200), () => level.getMany(missing), new Map<string, unknown>())
        return then(got, (map) => {
          for (const [k, v] of map) found.set(k, v)
          return step(1, missing.filter((k) => !found.has(k)))
        })
      }
      // Lower levels: one getEntry per missing key, so hits can be promoted with their timestamps.
      const epoch = this.invalidationEpoch
      const perKey = missing.map((key) =>
        then(
          this.guarded<CacheEntry | undefined>(i, 'getEntry', key, () => level.getEntry(key), undefined),
          (entry) => {
            if (entry === undefined) return undefined
            found.set(key, entry.value)
            if (epoch !== this.invalidationEpoch) return undefined
            const promotions: MaybePromise<void>[] = []
            for (let j = i - 1; j >= 0; j--) promotions.push(this.promote(j, key, entry))
            return all(promotions)
          },
        ),
      )
      return then(all(perKey), () => step(i + 1, missing.filter((k) => !found.has(k))))
    }
    return step(0, wanted)
  }

  // ---------------------------------------------------------------- writes

  set(key: string, value: unknown, ttl: number): MaybePromise<void> {
    if (value === undefined) throw new TypeError(`${this.name}.set: cannot store undefined (key ${JSON.stringify(key)})`)
    checkTtl(ttl, `${this.name}.set`)
    const now = preciseNow()
    const entry: CacheEntry = { value, createdAt: now, freshUntil: ttl > 0 ? now + ttl : Infinity }
    return this.writeAll('set', key, (level, i) => level.setEntry(key, entry, this.levelTtl(i, ttl)))
  }

  setEntry(key: string, entry: CacheEntry, ttl?: number): MaybePromise<void> {
    if (entry === null || typeof entry !== 'object') throw new TypeError(`${this.name}.setEntry: entry must be an object`)
    if (entry.value === undefined) throw new TypeError(`${this.name}.setEntry: cannot store undefined (key ${JSON.stringify(key)})`)
    let physical: number
    if (ttl === undefined) {
      physical = entry.freshUntil === Infinity ? 0 : Math.max(entry.freshUntil - preciseNow(), 0.001)
    } else {
      physical = checkTtl(ttl, `${this.name}.setEntry`)
    }
    return this.writeAll('setEntry', key, (level, i) => level.setEntry(key, entry, this.levelTtl(i, physical)))
  }

  setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): MaybePromise<void> {
    checkTtl(ttl, `${this.name}.setMany`)
    if (items === null || typeof items !== 'object') throw new TypeError(`${this.name}.setMany: items must be a Map or an object`)
    const pairs: Array<[string, unknown]> =
      Object.prototype.toString.call(items) === '[object Map]' ? [...(items as Map<string, unknown>)] : Object.entries(items)
    if (pairs.length === 0) return undefined
    for (const [k, v] of pairs) {
      if (v === undefined) throw new TypeError(`${this.name}.setMany: cannot store undefined (key ${JSON.stringify(k)})`)
    }
    const now = preciseNow()
    const freshUntil = ttl > 0 ? now + ttl : Infinity
    const label = pairs.map(([k]) => k).join(' ').slice(0, 200)
    return this.writeAll('setMany', label, (level, i) => {
      const levelTtl = this.levelTtl(i, ttl)
      // Uncapped: the level's own (possibly batched) setMany. Capped: entries keep the chain's freshUntil.
      if (levelTtl === ttl) return level.setMany(items, ttl)
      return all(pairs.map(([k, value]) => level.setEntry(k, { value, createdAt: now, freshUntil }, levelTtl)))
    })
  }

  setIfNotExists(key: string, value: unknown, ttl: number): MaybePromise<boolean> {
    if (value === undefined) throw new TypeError(`${this.name}.setIfNotExists: cannot store undefined (key ${JSON.stringify(key)})`)
    checkTtl(ttl, `${this.name}.setIfNotExists`)
    const deepest = this.deepest
    const won = this.levels[deepest].setIfNotExists(key, value, this.levelTtl(deepest, ttl))
    return then(won, (stored) => {
      if (!stored || deepest === 0) return stored
      const now = preciseNow()
      const entry: CacheEntry = { value, createdAt: now, freshUntil: ttl > 0 ? now + ttl : Infinity }
      const writes: MaybePromise<void>[] = []
      for (let i = 0; i < deepest; i++) {
        const level = this.levels[i]
        writes.push(this.guarded(i, 'setIfNotExists', key, () => level.setEntry(key, entry, this.levelTtl(i, ttl)), undefined))
      }
      return then(all(writes), () => true)
    })
  }

  delete(key: string): MaybePromise<void> {
    return this.writeAll('delete', key, (level) => level.delete(key), false)
  }

  clear(): MaybePromise<void> {
    return this.writeAll('clear', '', (level) => level.clear(), false)
  }
}
