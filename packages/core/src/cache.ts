import { now as clockNow, preciseNow } from './clock.js'
import { parseDuration } from './duration.js'
import {
  checkLogger,
  checkOnError,
  checkOptionKeys,
  errorTypeOf,
  isThenable,
  reportError,
  type Logger,
} from './error-reporting.js'
import { DEAD, STALE, entryState, freshUntilOf, mayRetryRefresh, physicalTtl } from './freshness.js'
import { InMemCache, MemRecord } from './in-mem-cache.js'
import { compileKey, type KeyBuilder } from './key-template.js'
import { checkMetricsOption, NULL_METRICS } from './metrics.js'
import { resolveStore } from './store-resolution.js'
import type { CacheEntry, CacheStorage, ErrorHandler, MaybePromise, MetricsCollector } from './types.js'

/** A duration: seconds (floats allowed) or a string such as `'250ms'`, `'30s'`, `'5m'`, `'1h'`, `'1d'`. */
export type Duration = number | string

/** A store given as an instance, a class (constructed once) or a factory (called once). */
export type StoreOption = CacheStorage | (new () => CacheStorage) | (() => CacheStorage)

/** Options of {@link cache}. */
export interface CacheOptions {
  /**
   * The cache key: a template (`'user:{id}'`, `'{0}:{1}'`, `'{user.id}'`, `{{`/`}}` for literal braces),
   * a function of the arguments, or a static string. Default: the function's name plus a canonical
   * encoding of all arguments.
   */
  key?: string | ((...args: any[]) => string | number)
  /** Stale-while-revalidate window after the TTL: a stale value is returned at once while one refresh runs. */
  stale?: Duration
  /** Where entries live. Default: a private `InMemCache` per decorated function. */
  store?: StoreOption
  /** Where hits, misses, latency and errors are reported. Default: none (`NULL_METRICS`, no cost). */
  metrics?: MetricsCollector
  /** The name used in metrics and default keys. Default: the function's name. */
  name?: string
  /** Cache `null` results too. Default false (`undefined` is never cached). */
  cacheNull?: boolean
  /** Receives background failures (SWR refreshes). Without it they are logged as warnings. */
  onError?: ErrorHandler
  /** Where background warnings go when there is no `onError`. Default `console`; `null` silences them. */
  logger?: Logger | null
}

const CACHE_OPTIONS = ['key', 'stale', 'store', 'metrics', 'name', 'cacheNull', 'onError', 'logger'] as const

type AnyFn = (this: any, ...args: any[]) => any

/** The extra members of a function wrapped by {@link cache}. */
export interface CachedMembers<A extends unknown[], R> {
  /** Remove the entry those arguments map to. */
  invalidate(...args: A): MaybePromise<void>
  /** Remove every entry of the store (a shared store is cleared for everyone using it). */
  clear(): MaybePromise<void>
  /** Run the function now (joining a load already running for the key), store the result, restart its TTL. */
  refresh(...args: A): MaybePromise<Awaited<R>>
  /** The cached value (fresh or stale) without calling the function, or `undefined`. Records no metrics. */
  peek(...args: A): MaybePromise<Awaited<R> | undefined>
  /** The key those arguments map to. */
  key(...args: A): string
  /** The store the entries live in. */
  readonly store: CacheStorage
}

/** A function wrapped by {@link cache}: the same call signature, plus {@link CachedMembers}. */
export type Cached<F extends AnyFn> = F & CachedMembers<Parameters<F>, ReturnType<F>>

/** What `cache(ttl, options)` returns: wraps a function, or decorates a method (TC39 or legacy decorators). */
export interface CacheDecorator {
  <F extends AnyFn>(fn: F, context?: ClassMethodDecoratorContext): Cached<F>
  (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor
}

const AsyncFunction = (async () => {}).constructor
const MEMORY_REPORT_EVERY = 128

/**
 * One decorated function's state: its options, its store and its in-flight loads.
 * The timing decisions come from `freshness.ts`; this class does the I/O around them.
 */
class CacheEngine {
  readonly mem: InMemCache | undefined
  readonly metrics: MetricsCollector | undefined
  /** True once the function is known to return promises: hits then return (cached) promises too. */
  asyncMode: boolean
  /** In-flight loads per key: concurrent misses, dead reloads and refreshes share one. */
  readonly inflight = new Map<string, Promise<unknown>>()
  private writes = 0
  /** Bumped by invalidate/clear: loads started before them do not write. */
  private generation = 0
  /** When the last background refresh of a key failed (epoch seconds). */
  private readonly failures = new Map<string, number>()

  constructor(
    readonly fn: AnyFn,
    readonly name: string,
    readonly ttl: number,
    readonly stale: number,
    readonly store: CacheStorage,
    readonly keyOf: KeyBuilder,
    metrics: MetricsCollector | undefined,
    readonly cacheNull: boolean,
    readonly onError: ErrorHandler | undefined,
    readonly logger: Logger | null,
  ) {
    this.mem = store instanceof InMemCache ? store : undefined
    this.metrics = metrics === undefined || metrics === NULL_METRICS ? undefined : metrics
    this.asyncMode = fn instanceof AsyncFunction
  }

  /** A call through the general path: any store, any number of arguments. */
  call(thisArg: unknown, args: unknown[]): unknown {
    let key: string
    try {
      key = this.keyOf(args)
    } catch (error) {
      return this.failCall(error)
    }
    if (this.mem !== undefined) return this.decide(thisArg, args, key, this.mem.record(key, clockNow()), false)
    const got = this.store.getEntry(key)
    if (isThenable(got)) {
      return (got as Promise<CacheEntry | undefined>).then((entry) => this.decide(thisArg, args, key, entry, true))
    }
    return this.decide(thisArg, args, key, got, false)
  }

  /** What to return for an entry read from the store (or its absence). */
  decide(thisArg: unknown, args: unknown[], key: string, entry: CacheEntry | MemRecord | undefined, settled: boolean): unknown {
    if (entry !== undefined) {
      const now = clockNow()
      const state = entryState(entry.freshUntil, now, this.stale)
      if (state !== DEAD) {
        this.metrics?.recordHit(this.name, state === STALE)
        if (state === STALE) this.refreshInBackground(thisArg, args, key, now)
        return settled ? entry.value : this.hitValue(entry)
      }
    }
    this.metrics?.recordMiss(this.name)
    return this.load(thisArg, args, key)
  }

  /** A key that cannot be built: an async function rejects (it never throws synchronously); a sync one throws. */
  failCall(error: unknown): unknown {
    if (this.asyncMode) return Promise.reject(error)
    throw error
  }

  hitValue(entry: CacheEntry | MemRecord): unknown {
    if (!this.asyncMode) return entry.value
    if (entry instanceof MemRecord) return (entry.promise ??= Promise.resolve(entry.value))
    return Promise.resolve(entry.value)
  }

  /** Load through the single flight of `key`, joining one already running. */
  load(thisArg: unknown, args: unknown[], key: string): unknown {
    if (this.asyncMode) {
      const pending = this.inflight.get(key)
      if (pending !== undefined) return pending
    }
    return this.startLoad(thisArg, args, key)
  }

  private startLoad(thisArg: unknown, args: unknown[], key: string): unknown {
    const t0 = this.metrics === undefined ? 0 : performance.now()
    let result: unknown
    try {
      result = this.fn.apply(thisArg, args)
    } catch (error) {
      this.metrics?.recordError(this.name, 'load', errorTypeOf(error))
      throw error
    }
    if (isThenable(result)) {
      this.asyncMode = true
      return this.fly(key, Promise.resolve(result), t0)
    }
    this.recordLoad(t0)
    const written = this.write(key, result)
    return isThenable(written) ? written.then(() => result) : result
  }

  /** Registers `pending` as the in-flight load of `key`. */
  private fly(key: string, pending: Promise<unknown>, t0: number): Promise<unknown> {
    const flight = this.mem !== undefined ? this.landInMemory(key, pending, t0) : this.land(key, pending, t0, this.generation)
    this.inflight.set(key, flight)
    return flight
  }

  /**
   * With an in-memory store the write cannot fail or wait, so callers get the load's own promise:
   * the write is a reaction registered before any caller's, so it lands before they resume.
   */
  private landInMemory(key: string, pending: Promise<unknown>, t0: number): Promise<unknown> {
    const generation = this.generation
    pending.then(
      (value) => {
        if (generation !== this.generation) return
        this.inflight.delete(key)
        // Nothing here may reject: this promise has no listener (a throwing metrics exporter is reported).
        try {
          this.recordLoad(t0)
          this.write(key, value)
        } catch (error) {
          reportError(error, { cacheName: this.name, key, operation: 'set' }, undefined, this.onError, this.logger)
        }
      },
      (error) => {
        if (generation === this.generation) this.inflight.delete(key)
        this.metrics?.recordError(this.name, 'load', errorTypeOf(error))
      },
    )
    return pending
  }

  /**
   * Waits for a load and writes its value (to a store that may answer asynchronously or fail), unless an invalidate/clear came meanwhile (the value
   * may predate it). Only the flight of the current generation owns `inflight[key]`: invalidate
   * and clear drop flights and bump the generation.
   */
  private async land(key: string, pending: Promise<unknown>, t0: number, generation: number): Promise<unknown> {
    let value: unknown
    try {
      value = await pending
    } catch (error) {
      if (generation === this.generation) this.inflight.delete(key)
      this.metrics?.recordError(this.name, 'load', errorTypeOf(error))
      throw error
    }
    this.recordLoad(t0)
    if (generation !== this.generation) return value
    try {
      const written = this.write(key, value)
      if (written !== undefined) await written
    } finally {
      if (generation === this.generation) this.inflight.delete(key)
    }
    return value
  }

  private recordLoad(t0: number): void {
    if (this.metrics !== undefined) this.metrics.recordLatency(this.name, 'load', (performance.now() - t0) / 1000)
  }

  /** Store a loaded value: never `undefined`, `null` only with `cacheNull`. Physical TTL = ttl + stale. */
  write(key: string, value: unknown): MaybePromise<void> {
    if (value === undefined || (value === null && !this.cacheNull)) return
    const createdAt = preciseNow()
    const ttl = physicalTtl(this.ttl, this.stale)
    if (this.mem !== undefined) {
      this.mem.put(key, value, createdAt, this.ttl, ttl)
      if (this.metrics !== undefined) this.recordSet(this.mem)
      return
    }
    this.metrics?.recordSet(this.name)
    return this.store.setEntry(key, { value, createdAt, freshUntil: freshUntilOf(createdAt, this.ttl) }, ttl)
  }

  /** Counts a write; every {@link MEMORY_REPORT_EVERY} writes also reports the in-memory store's size. */
  private recordSet(mem: InMemCache): void {
    const metrics = this.metrics!
    metrics.recordSet(this.name)
    if (++this.writes % MEMORY_REPORT_EVERY === 1) {
      const usage = mem.memoryUsage()
      metrics.recordMemoryUsage(this.name, usage.bytes, usage.entries)
    }
  }

  /** SWR: start at most one refresh of a stale key; its failure keeps the stale value and is reported. */
  refreshInBackground(thisArg: unknown, args: unknown[], key: string, now: number): void {
    if (this.inflight.has(key) || !mayRetryRefresh(this.failures.get(key), now)) return
    let pending: unknown
    if (this.asyncMode) {
      try {
        pending = this.startLoad(thisArg, args, key)
      } catch (error) {
        this.refreshSettled(key, error)
        return
      }
    } else {
      // A synchronous function cannot run in the background: run it right after the caller got the stale value.
      pending = this.fly(
        key,
        Promise.resolve().then(() => this.fn.apply(thisArg, args)),
        this.metrics === undefined ? 0 : performance.now(),
      )
    }
    if (isThenable(pending)) {
      pending.then(
        () => this.refreshSettled(key, undefined),
        (error) => this.refreshSettled(key, error),
      )
    } else {
      this.refreshSettled(key, undefined)
    }
  }

  private refreshSettled(key: string, error: unknown): void {
    this.metrics?.recordBackgroundRefresh(this.name, error === undefined)
    if (error === undefined) {
      this.failures.delete(key)
      return
    }
    // Bounded: keys that fail and are never read again must not pile up.
    if (this.failures.size >= 10_000) this.failures.clear()
    this.failures.set(key, preciseNow())
    reportError(error, { cacheName: this.name, key, operation: 'refresh' }, undefined, this.onError, this.logger)
  }

  refresh(thisArg: unknown, args: unknown[]): unknown {
    const key = this.keyOf(args)
    return this.inflight.get(key) ?? this.startLoad(thisArg, args, key)
  }

  invalidate(args: unknown[]): MaybePromise<void> {
    const key = this.keyOf(args)
    this.generation++
    this.inflight.delete(key)
    this.failures.delete(key)
    this.metrics?.recordDelete(this.name)
    return this.store.delete(key)
  }

  clear(): MaybePromise<void> {
    this.generation++
    this.inflight.clear()
    this.failures.clear()
    return this.store.clear()
  }

  peek(args: unknown[]): unknown {
    const got = this.store.getEntry(this.keyOf(args))
    const pick = (entry: CacheEntry | undefined) =>
      entry !== undefined && entryState(entry.freshUntil, clockNow(), this.stale) !== DEAD ? entry.value : undefined
    return isThenable(got) ? (got as Promise<CacheEntry | undefined>).then(pick) : pick(got)
  }
}

const NO_ARGS: unknown[] = []

/** Builds the callable for an engine: a lean hit path for calls with zero or one argument on an `InMemCache`. */
function wrap(engine: CacheEngine): AnyFn {
  const general = function (this: unknown, ...args: unknown[]): unknown {
    return engine.call(this, args)
  }
  const mem = engine.mem
  const keyOf = engine.keyOf
  const unary = keyOf.unary ?? keyOf.one
  if (mem === undefined || unary === undefined) return general
  const name = engine.name
  const metrics = engine.metrics
  // The hit path: no allocation (an async hit hands back the entry's cached promise), no await,
  // an amortised clock read. Anything else goes through `decide` or `general`.
  return function (this: unknown, a0?: unknown): unknown {
    const n = arguments.length
    if (n > 1) return general.apply(this, arguments as unknown as unknown[])
    let key: string
    try {
      key = n === 1 ? unary(a0) : keyOf(NO_ARGS)
    } catch (error) {
      return engine.failCall(error)
    }
    const now = clockNow()
    const rec = mem.record(key, now)
    if (rec !== undefined && now < rec.createdAt + rec.ttl) {
      if (metrics !== undefined) metrics.recordHit(name, false)
      return engine.asyncMode ? (rec.promise ??= Promise.resolve(rec.value)) : rec.value
    }
    return engine.decide(this, n === 1 ? [a0] : [], key, rec, false)
  }
}

/** Validated `cache()` options, before a function is known. */
interface CacheSettings {
  ttl: number
  stale: number
  options: CacheOptions
  metrics: MetricsCollector | undefined
  onError: ErrorHandler | undefined
  logger: Logger | null
}

function checkSettings(ttlInput: unknown, options: CacheOptions | undefined): CacheSettings {
  checkOptionKeys('cache()', options, CACHE_OPTIONS)
  const opts = options ?? {}
  const ttl = parseDuration(ttlInput, 'ttl', { allowNegative: true })
  const stale = opts.stale === undefined ? 0 : parseDuration(opts.stale, 'stale')
  if (opts.cacheNull !== undefined && typeof opts.cacheNull !== 'boolean') {
    throw new TypeError('cache(): option "cacheNull" must be a boolean')
  }
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name === '')) {
    throw new TypeError('cache(): option "name" must be a non-empty string')
  }
  if (opts.key !== undefined && typeof opts.key !== 'string' && typeof opts.key !== 'function') {
    throw new TypeError('cache(): option "key" must be a template string or a function of the arguments')
  }
  return {
    ttl,
    stale,
    options: opts,
    metrics: checkMetricsOption('cache()', opts.metrics),
    onError: checkOnError('cache()', opts.onError),
    logger: checkLogger('cache()', opts.logger),
  }
}

let anonymousCount = 0

function decorate<F extends AnyFn>(settings: CacheSettings, fn: F, contextName?: string): Cached<F> {
  if (typeof fn !== 'function') throw new TypeError(`cache(): expected a function to wrap, got ${typeof fn}`)
  const { ttl, stale, options } = settings
  const store = options.store === undefined ? new InMemCache() : resolveStore(options.store, 'store')
  if (options.name === undefined && options.key === undefined && options.store !== undefined) {
    if (!contextName && !fn.name) {
      // Its default key would be an order-dependent `anonymous#N(…)`: two processes sharing the store
      // could number functions differently and read each other's entries.
      throw new TypeError('cache(): an anonymous function on a given store needs a "name" or a "key" option')
    }
    if (contextName !== undefined && !contextName.includes('.')) {
      // A TC39 decorator sees the method name only: `Users.get` and `Orders.get` would share keys.
      throw new TypeError(
        `cache(): method "${contextName}" on a given store needs a "name" (such as "MyClass.${contextName}") or a "key" option`,
      )
    }
  }
  const name = options.name ?? (contextName || fn.name || `anonymous#${++anonymousCount}`)
  const keyOf = compileKey(options.key as Parameters<typeof compileKey>[0], fn, name)

  let wrapped: AnyFn
  let engine: CacheEngine | undefined
  if (ttl <= 0) {
    // Bypass: always call, never store.
    wrapped = function (this: unknown, ...args: unknown[]) {
      return fn.apply(this, args)
    }
  } else {
    engine = new CacheEngine(fn, name, ttl, stale, store, keyOf, settings.metrics, options.cacheNull === true, settings.onError, settings.logger)
    wrapped = wrap(engine)
  }
  const members: CachedMembers<unknown[], unknown> = {
    invalidate: (...args) => (engine ? engine.invalidate(args) : store.delete(keyOf(args))),
    clear: () => (engine ? engine.clear() : store.clear()),
    refresh(this: unknown, ...args) {
      return (engine ? engine.refresh(this, args) : fn.apply(this, args)) as MaybePromise<unknown>
    },
    peek: (...args) => (engine ? engine.peek(args) : undefined) as MaybePromise<unknown>,
    key: (...args) => keyOf(args),
    store,
  }
  Object.defineProperties(wrapped, {
    name: { value: fn.name, configurable: true },
    length: { value: fn.length, configurable: true },
  })
  return Object.assign(wrapped, members) as Cached<F>
}

/**
 * Caches a function's results for `ttl` (seconds or `'30s'`-style strings), with optional
 * stale-while-revalidate. Concurrent misses of one key run the function once. `ttl <= 0` bypasses
 * the cache. Works on async and sync functions (a sync function stays sync with a synchronous
 * store) and as a method decorator.
 *
 * @example
 * const getUser = cache(60, { key: 'user:{id}' })(async (id: number) => db.fetchUser(id))
 * const getPrice = cache('1m', { stale: '30s', key: 'price:{symbol}' })(async (symbol: string) => api.price(symbol))
 *
 * class Users {
 *   @cache(60, { key: 'user:{0}' })
 *   async get(id: number) { return db.fetchUser(id) }
 * }
 */
export function cache(ttl: Duration, options?: CacheOptions): CacheDecorator {
  const settings = checkSettings(ttl, options)
  return function (target: any, context?: any, descriptor?: PropertyDescriptor): any {
    if (descriptor !== undefined && typeof descriptor === 'object' && typeof descriptor.value === 'function') {
      // Legacy (experimentalDecorators) method decorator: the target is the prototype (or the class
      // for a static method), so the default name can say which class.
      const owner = typeof target === 'function' ? target.name : target?.constructor?.name
      const method = String(context)
      return { ...descriptor, value: decorate(settings, descriptor.value, owner ? `${owner}.${method}` : method) }
    }
    if (context !== undefined && context !== null && typeof context === 'object' && 'kind' in context) {
      if (context.kind !== 'method') {
        throw new TypeError(`cache(): can decorate functions and methods, not a ${String(context.kind)}`)
      }
      return decorate(settings, target, String(context.name))
    }
    return decorate(settings, target)
  } as CacheDecorator
}
