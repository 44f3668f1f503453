/**
 * `createCache()`: a cache object keyed by strings (`get`, `getOrSet`, `set`, `delete`, `warmup`),
 * for code that does not fit a decorated function. Loads go through `cache()` itself — one internal
 * cached function per distinct `ttl`/`stale` pair whose key is the given key and whose body calls
 * the given loader — so freshness, SWR and single-flight are the engine's, not a second copy.
 */
import { cache, type Cached, type Duration, type StoreOption } from './cache.js'
import { preciseNow } from './clock.js'
import { parseDuration } from './duration.js'
import { checkLogger, checkOnError, checkOptionKeys, isThenable, type Logger } from './error-reporting.js'
import { freshUntilOf, physicalTtl } from './freshness.js'
import { InMemCache } from './in-mem-cache.js'
import { checkMetricsOption, NULL_METRICS } from './metrics.js'
import { resolveStore } from './store-resolution.js'
import type { CacheEntry, CacheStorage, ErrorHandler, MaybePromise, MetricsCollector } from './types.js'

/** Options of {@link createCache}. */
export interface CreateCacheOptions {
  /** How long a value stays fresh (seconds or `'30s'`-style). `<= 0` bypasses the cache: loaders always run, nothing is stored. */
  ttl: Duration
  /** Stale-while-revalidate window after `ttl` for `getOrSet`. Default 0 (none). */
  stale?: Duration
  /** Where entries live. Default: a private `InMemCache`. */
  store?: StoreOption
  /** Also report hits, misses, sets, deletes and load latency here. Default: none (`getMetrics()` counts regardless). */
  metrics?: MetricsCollector
  /** The name used in metrics. Default `'cache'`. */
  name?: string
  /** Cache `null` results (and allow `set(key, null)`). Default false. */
  cacheNull?: boolean
  /** Receives background failures (SWR refreshes). Without it they are logged as warnings. */
  onError?: ErrorHandler
  /** Where background warnings go when there is no `onError`. Default `console`; `null` silences them. */
  logger?: Logger | null
}

/** Per-call overrides of `getOrSet`, `set` and `warmup`. */
export interface EntryOptions {
  ttl?: Duration
  stale?: Duration
}

/** What {@link CacheInstance.warmup} did, key by key (in the order the loaders were given). */
export interface WarmupResult {
  /** Keys whose loader ran and resolved (the value is stored unless it is `undefined`, or `null` without `cacheNull`). */
  loaded: string[]
  /** Keys already present (fresh or stale): their loader did not run. */
  skipped: string[]
  /** Keys whose loader threw or rejected, with the error. Nothing is stored for them. */
  failed: Array<{ key: string; error: unknown }>
}

/** The counters of {@link CacheInstance.getMetrics}. */
export interface CacheInstanceMetrics {
  /** Reads answered from the store (`get`, `getOrSet`), stale ones included. */
  hits: number
  /** Reads that found nothing (`get`) or had to load (`getOrSet`, joining a running load included). */
  misses: number
  /** Entries in the store when it can tell (`InMemCache.size`, expired ones not yet swept included), else `undefined`. */
  size: number | undefined
  /** `hits / (hits + misses)`, 0 before any read. */
  hitRate: number
}

/** The object returned by {@link createCache}. */
export interface CacheInstance<V = unknown> {
  /**
   * The value (fresh or stale), or `undefined`. Records a hit or a miss.
   * @example
   * const user = await users.get('user:1') // undefined until something stored it
   */
  get(key: string): MaybePromise<V | undefined>
  /**
   * The cached value, or the loader's (stored, then returned). Concurrent calls for one key run the
   * loader once (among calls with the same ttl/stale); a stale value is returned at once while one
   * background refresh runs.
   * @example
   * const user = await users.getOrSet('user:1', () => db.fetchUser(1), { ttl: 300 })
   */
  getOrSet<T extends V = V>(key: string, loader: (key: string) => T | Promise<T>, options?: EntryOptions): MaybePromise<T>
  /**
   * Store a value (replacing any). `undefined` is a TypeError, and `null` too unless `cacheNull`.
   * @example
   * await users.set('user:1', { id: 1, name: 'Ada' }, { ttl: 10 })
   */
  set(key: string, value: V, options?: EntryOptions): MaybePromise<void>
  /**
   * Remove a key; a load already running for it still answers its callers but does not write.
   * @example
   * await users.delete('user:1')
   */
  delete(key: string): MaybePromise<void>
  /**
   * Load the keys that are not present, all at once; never rejects for a loader's failure.
   * @example
   * const { loaded, skipped, failed } = await users.warmup({ 'user:1': () => db.fetchUser(1) })
   */
  warmup(loaders: Record<string, (key: string) => V | Promise<V>>, options?: EntryOptions): Promise<WarmupResult>
  /**
   * Hits, misses and hit rate counted by this object, and the store's size when it can tell.
   * @example
   * users.getMetrics() // { hits: 8, misses: 2, size: 2, hitRate: 0.8 }
   */
  getMetrics(): CacheInstanceMetrics
  /**
   * Remove every entry of the store (a shared store is cleared for everyone using it).
   * @example
   * await users.clear()
   */
  clear(): MaybePromise<void>
  /** The store the entries live in. */
  readonly store: CacheStorage
  /** The name used in metrics. */
  readonly name: string
}

const CREATE_OPTIONS = ['ttl', 'stale', 'store', 'metrics', 'name', 'cacheNull', 'onError', 'logger'] as const
const ENTRY_OPTIONS = ['ttl', 'stale'] as const
/** Distinct ttl/stale pairs kept; beyond it the least recently used one is dropped (its running loads still land). */
const MAX_VARIANTS = 64

type Loader = (key: string) => unknown
/** The body of every internal cached function: its key is `key`, its work is the caller's loader. */
const runLoader = (key: string, loader: Loader): unknown => loader(key)
const keyIsFirstArgument = (key: string): string => key

function noop(): void {}

/**
 * Creates a cache object: `get`, `getOrSet` (single-flight, SWR), `set`, `delete`, `warmup`,
 * `getMetrics`, `clear`. Keys are strings used as given (no prefix: give each use its own store or
 * key scheme). With a synchronous store (the default `InMemCache`) and a synchronous loader, the
 * methods answer synchronously; otherwise they return promises — `await` them either way.
 *
 * @example
 * const users = createCache<User>({ ttl: 60, stale: 30 })
 * const user = await users.getOrSet(`user:${id}`, () => db.fetchUser(id))
 * await users.warmup({ 'user:1': () => db.fetchUser(1), 'user:2': () => db.fetchUser(2) })
 * users.getMetrics() // { hits: 0, misses: 1, size: 3, hitRate: 0 }
 */
export function createCache<V = unknown>(options: CreateCacheOptions): CacheInstance<V> {
  if (options === undefined) throw new TypeError('createCache(): options are required (at least "ttl")')
  checkOptionKeys('createCache()', options, CREATE_OPTIONS)
  if (options.ttl === undefined) throw new TypeError('createCache(): option "ttl" is required')
  const ttl = parseDuration(options.ttl, 'ttl', { allowNegative: true })
  const stale = options.stale === undefined ? 0 : parseDuration(options.stale, 'stale')
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw new TypeError('createCache(): option "name" must be a non-empty string')
  }
  if (options.cacheNull !== undefined && typeof options.cacheNull !== 'boolean') {
    throw new TypeError('createCache(): option "cacheNull" must be a boolean')
  }
  const checked = checkMetricsOption('createCache()', options.metrics)
  const user = checked === NULL_METRICS ? undefined : checked
  const onError = checkOnError('createCache()', options.onError)
  const logger = checkLogger('createCache()', options.logger)
  const store = options.store === undefined ? new InMemCache() : resolveStore(options.store, 'store')
  const name = options.name ?? 'cache'
  const cacheNull = options.cacheNull === true

  let hits = 0
  let misses = 0
  // The engine reports into this collector: hits and misses are counted where cache() decides them.
  // Deletes are recorded once by delete() itself (each internal function's invalidate would report one).
  const counting: MetricsCollector = {
    recordHit(n, isStale) {
      hits++
      user?.recordHit(n, isStale)
    },
    recordMiss(n) {
      misses++
      user?.recordMiss(n)
    },
    recordSet: user ? (n) => user.recordSet(n) : noop,
    recordDelete: noop,
    recordLatency: user ? (n, op, s) => user.recordLatency(n, op, s) : noop,
    recordError: user ? (n, op, t) => user.recordError(n, op, t) : noop,
    recordMemoryUsage: user ? (n, b, e) => user.recordMemoryUsage(n, b, e) : noop,
    recordBackgroundRefresh: user ? (n, ok) => user.recordBackgroundRefresh(n, ok) : noop,
  }

  const make = (vTtl: number, vStale: number): Cached<typeof runLoader> =>
    cache(vTtl, { stale: vStale, store, key: keyIsFirstArgument, name, metrics: counting, cacheNull, onError, logger })(runLoader)
  const standard = make(ttl, stale)
  /** Internal functions for per-call ttl/stale overrides, least recently used first. */
  const variants = new Map<string, Cached<typeof runLoader>>()
  const variant = (vTtl: number, vStale: number): Cached<typeof runLoader> => {
    if (vTtl === ttl && vStale === stale) return standard
    const id = `${vTtl}|${vStale}`
    let fn = variants.get(id)
    if (fn !== undefined) {
      // Least recently used order: a used variant moves to the end.
      variants.delete(id)
    } else {
      fn = make(vTtl, vStale)
      if (variants.size >= MAX_VARIANTS) variants.delete(variants.keys().next().value!)
    }
    variants.set(id, fn)
    return fn
  }

  const settingsOf = (method: string, entryOptions: EntryOptions | undefined): { ttl: number; stale: number } => {
    if (entryOptions === undefined) return { ttl, stale }
    checkOptionKeys(`${name}.${method}()`, entryOptions, ENTRY_OPTIONS)
    return {
      ttl: entryOptions.ttl === undefined ? ttl : parseDuration(entryOptions.ttl, 'ttl', { allowNegative: true }),
      stale: entryOptions.stale === undefined ? stale : parseDuration(entryOptions.stale, 'stale'),
    }
  }
  const checkKey = (method: string, key: unknown): void => {
    if (typeof key !== 'string' || key === '') {
      throw new TypeError(`${name}.${method}(): the key must be a non-empty string (got ${key === '' ? "''" : typeof key})`)
    }
  }
  const checkLoader = (method: string, key: string, loader: unknown): void => {
    if (typeof loader !== 'function') throw new TypeError(`${name}.${method}(): the loader of key "${key}" must be a function`)
  }
  const countRead = (entry: CacheEntry | undefined): unknown => {
    if (entry === undefined) {
      misses++
      user?.recordMiss(name)
      return undefined
    }
    hits++
    user?.recordHit(name, preciseNow() >= entry.freshUntil)
    return entry.value
  }
  const everyVariant = (op: (fn: Cached<typeof runLoader>) => MaybePromise<void>): MaybePromise<void> => {
    const pending: Promise<void>[] = []
    for (const fn of [standard, ...variants.values()]) {
      const done = op(fn)
      if (isThenable(done)) pending.push(done)
    }
    if (pending.length > 0) return Promise.all(pending).then(noop)
  }

  const instance: CacheInstance<unknown> = {
    get(key) {
      checkKey('get', key)
      // Entries are kept physically for ttl + stale: present means fresh or stale.
      const got = store.getEntry(key)
      return isThenable(got) ? (got as Promise<CacheEntry | undefined>).then(countRead) : countRead(got)
    },

    getOrSet(key, loader, entryOptions) {
      checkKey('getOrSet', key)
      checkLoader('getOrSet', key, loader)
      let fn = standard
      let bypass = ttl <= 0
      if (entryOptions !== undefined) {
        const s = settingsOf('getOrSet', entryOptions)
        fn = variant(s.ttl, s.stale)
        bypass = s.ttl <= 0
      }
      if (bypass) {
        // cache() calls the loader without recording anything; this object still counts a miss.
        misses++
        user?.recordMiss(name)
      }
      return fn(key, loader as Loader) as never
    },

    set(key, value, entryOptions) {
      checkKey('set', key)
      if (value === undefined) throw new TypeError(`${name}.set(): cannot store undefined (key "${key}"); use delete()`)
      if (value === null && !cacheNull) {
        throw new TypeError(`${name}.set(): null is stored only with the "cacheNull" option (key "${key}")`)
      }
      const s = settingsOf('set', entryOptions)
      if (s.ttl <= 0) return
      const createdAt = preciseNow()
      user?.recordSet(name)
      return store.setEntry(key, { value, createdAt, freshUntil: freshUntilOf(createdAt, s.ttl) }, physicalTtl(s.ttl, s.stale))
    },

    delete(key) {
      checkKey('delete', key)
      user?.recordDelete(name)
      // invalidate() also stops loads already running for the key from writing.
      return everyVariant((fn) => (fn.invalidate as (key: string) => MaybePromise<void>)(key))
    },

    async warmup(loaders, entryOptions) {
      if (loaders === null || typeof loaders !== 'object' || Array.isArray(loaders)) {
        throw new TypeError(`${name}.warmup(): expected an object of key: loader`)
      }
      const keys = Object.keys(loaders)
      for (const key of keys) checkLoader('warmup', key, loaders[key])
      const s = settingsOf('warmup', entryOptions)
      const result: WarmupResult = { loaded: [], skipped: [], failed: [] }
      if (keys.length === 0) return result
      // One read for every key, then the missing ones load concurrently, each through the key's single flight.
      const present = await store.getMany(keys)
      const fn = variant(s.ttl, s.stale)
      const outcomes = await Promise.all(
        keys.map((key) =>
          present.get(key) !== undefined
            ? 'skipped'
            : Promise.resolve()
                .then(() => fn.refresh(key, loaders[key] as Loader))
                .then(
                  () => 'loaded' as const,
                  (error: unknown) => ({ error }),
                ),
        ),
      )
      keys.forEach((key, i) => {
        const outcome = outcomes[i]
        if (outcome === 'skipped') result.skipped.push(key)
        else if (outcome === 'loaded') result.loaded.push(key)
        else result.failed.push({ key, error: outcome.error })
      })
      return result
    },

    getMetrics() {
      const total = hits + misses
      const size = (store as { size?: unknown }).size
      return { hits, misses, size: typeof size === 'number' ? size : undefined, hitRate: total === 0 ? 0 : hits / total }
    },

    clear() {
      // Each internal function forgets its running loads (and clears the store: usually there is one).
      return everyVariant((fn) => fn.clear())
    },

    store,
    name,
  }
  return instance as CacheInstance<V>
}
