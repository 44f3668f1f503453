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
import { DEAD, LOAD, REFRESH, BACKGROUND, STALE, entryState, freshUntilOf, mayRetryRefresh, physicalTtl, staleIfErrorServes, type LoadKind } from './freshness.js'
import { InMemCache, PENDING, recordEntry, recordFreshUntil, type MemRecord } from './in-mem-cache.js'
import { compileKey, type KeyBuilder } from './key-template.js'
import { checkMetricsOption, NULL_METRICS } from './metrics.js'
import { resolveStore } from './store-resolution.js'
import type { CacheEntry, CacheStorage, ErrorHandler, LockingStorage, MaybePromise, MetricsCollector } from './types.js'
import { acquireLock, checkLockStore, parseLock, releaseQuietly, type LockOption, type LockSettings } from './lock-flight.js'
import { LoadControl, loaderSignal, loaderTimeout, parseTimeouts, type LoaderTimeouts, type TimeoutOption } from './loader-timeout.js'
import { parseRefreshAhead, RefreshAhead, type RefreshAheadOption, type RefreshAheadSettings } from './refresh-ahead.js'
import { decorateBatch, type Batched, type BatchLoadFn, type BatchOptions } from './batch-loader.js'

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
  /**
   * Distributed single-flight: one loader call across processes for a key, through the store's lock
   * (`tryLock`; RedisCache, or a HybridCache / ChainCache over one). `true`, or `{ timeout }`: how long
   * a crashed holder can block others, and how long a waiter waits before loading itself (default 10 s).
   * With `lock` the function always returns a promise.
   */
  lock?: LockOption
  /**
   * Never-die: refresh a key that is being read in the background at `createdAt + at × ttl` (default
   * `at` 0.9), so callers never wait after its first load. A failed refresh keeps (and serves) the
   * last good value and is retried after `backoff.initial` (default 1 s) × 1.25 per failure, capped
   * at `backoff.max` (default 60 s). A key not read for `idle` (default 2 × ttl) stops being refreshed
   * and expires normally. `bg.shutdown()` stops it.
   */
  refreshAhead?: RefreshAheadOption
  /**
   * Loader deadlines: a duration (the hard timeout) or `{ soft?, hard? }`. Soft: past it, a caller
   * that has a dead-but-stored value gets that value while the loader finishes in the background
   * (its result is stored). Hard: past it, callers get a `TimeoutError`, the loader's signal
   * (`cache.signal()`) is aborted and its late result is dropped.
   */
  timeout?: TimeoutOption
  /**
   * When the loader fails on a dead entry, serve the last value for up to this long past the end of
   * its stale window (inclusive), reporting the error. Entries are kept physically that much longer.
   */
  staleIfError?: Duration
  /**
   * DataLoader-style batching: wrap a function of many ids (`(ids) => Map | array`) and call the result
   * with one id; calls within `windowMs` are read with one `getMany` and loaded with one call of the
   * function. `true` for the defaults. Not combinable with `stale`.
   */
  batch?: BatchOptions | true
}

const CACHE_OPTIONS = ['key', 'stale', 'store', 'metrics', 'name', 'cacheNull', 'onError', 'logger', 'lock', 'refreshAhead', 'timeout', 'staleIfError', 'batch'] as const

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

/** The engine's options beyond TTL and SWR; `undefined` on engines that use none, whose paths stay as lean as before. */
export interface EngineFeatures {
  lock: LockSettings | undefined
  refreshAhead: RefreshAheadSettings | undefined
  timeouts: LoaderTimeouts | undefined
  /** Seconds past the stale window during which a failed load serves the last value (0 = off). */
  staleIfError: number
}

/** What a background refresh resolves to when another process holds the lock (it skipped). */
const SKIPPED: unique symbol = Symbol('acache.skipped')
const noop = () => {}

/**
 * One decorated function's state: its options, its store and its in-flight loads.
 * The timing decisions come from `freshness.ts`; this class does the I/O around them.
 */
class CacheEngine {
  readonly mem: InMemCache | undefined
  readonly metrics: MetricsCollector | undefined
  /** True once the function is known to return promises: hits then return (cached) promises too. */
  asyncMode: boolean
  /**
   * In-flight loads per key: concurrent misses, dead reloads and refreshes share one. A miss on an
   * `InMemCache` keeps its load in the store instead, as a placeholder record (see {@link holdFlight}).
   */
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
    readonly features?: EngineFeatures,
  ) {
    this.mem = store instanceof InMemCache ? store : undefined
    this.metrics = metrics === undefined || metrics === NULL_METRICS ? undefined : metrics
    // A lock is taken asynchronously, so with `lock` every call answers with a promise.
    this.asyncMode = fn instanceof AsyncFunction || features?.lock !== undefined
    this.ahead = features?.refreshAhead === undefined ? undefined : new RefreshAhead(this, features.refreshAhead)
    this.life =
      physicalTtl(ttl, stale) + (features === undefined ? 0 : features.staleIfError + (features.refreshAhead === undefined ? 0 : ttl))
  }

  /** The refresh-ahead schedule, with `refreshAhead`. */
  readonly ahead: RefreshAhead | undefined
  /** The physical lifetime of written entries (seconds). */
  private readonly life: number

  /** A call through the general path: any store, any number of arguments. */
  call(thisArg: unknown, args: unknown[]): unknown {
    let key: string
    try {
      key = this.keyOf(args)
    } catch (error) {
      return this.failCall(error)
    }
    if (this.mem !== undefined) return this.decide(thisArg, args, key, this.mem.slot(key, clockNow()), false)
    const got = this.store.getEntry(key)
    if (isThenable(got)) {
      return (got as Promise<CacheEntry | undefined>).then((entry) => this.decide(thisArg, args, key, entry, true))
    }
    return this.decide(thisArg, args, key, got, false)
  }

  /**
   * What to return for what the store holds for `key`: on an `InMemCache` its record itself (or a
   * placeholder of a load under way), on other stores a `CacheEntry` copy, or nothing.
   */
  decide(thisArg: unknown, args: unknown[], key: string, found: CacheEntry | MemRecord | undefined, settled: boolean): unknown {
    let freshUntil = 0
    if (found !== undefined) {
      if (this.mem !== undefined) {
        const rec = found as MemRecord
        if (rec.ttl === PENDING) {
          // A miss of ours is loading this key: join it. (Another function's load on a shared store is no entry for us.)
          if (rec.value === this) {
            this.metrics?.recordMiss(this.name)
            return rec.promise
          }
          found = undefined
        } else freshUntil = recordFreshUntil(rec)
      } else freshUntil = (found as CacheEntry).freshUntil
    }
    if (found !== undefined) {
      const now = clockNow()
      const state = entryState(freshUntil, now, this.stale)
      if (state !== DEAD) {
        this.metrics?.recordHit(this.name, state === STALE)
        if (this.ahead !== undefined) this.ahead.touch(key, thisArg, args, now, found.createdAt)
        if (state === STALE) this.refreshInBackground(thisArg, args, key, now, found)
        return settled ? found.value : this.hitValue(found)
      }
      if (this.ahead !== undefined && this.ahead.keeps(key)) {
        // Refresh-ahead serves the last good value of a key it keeps refreshing (a refresh is slow or failing).
        this.metrics?.recordHit(this.name, true)
        this.ahead.touch(key, thisArg, args, now, found.createdAt)
        return settled ? found.value : this.hitValue(found)
      }
    }
    this.metrics?.recordMiss(this.name)
    // Only loads with features look at the dead entry they replace.
    return this.load(thisArg, args, key, found === undefined || this.features === undefined ? undefined : this.entryOf(found))
  }

  /** A `CacheEntry` for what the store handed out (an in-memory record is copied). */
  private entryOf(found: CacheEntry | MemRecord): CacheEntry {
    return this.mem !== undefined ? recordEntry(found as MemRecord) : (found as CacheEntry)
  }

  /** A key that cannot be built: an async function rejects (it never throws synchronously); a sync one throws. */
  failCall(error: unknown): unknown {
    if (this.asyncMode) return Promise.reject(error)
    throw error
  }

  hitValue(found: CacheEntry | MemRecord): unknown {
    if (!this.asyncMode) return found.value
    if (this.mem !== undefined) {
      const rec = found as MemRecord
      return (rec.promise ??= Promise.resolve(rec.value))
    }
    return Promise.resolve(found.value)
  }

  /** Load through the single flight of `key`, joining one already running. */
  load(thisArg: unknown, args: unknown[], key: string, last?: CacheEntry): unknown {
    if (this.asyncMode && this.inflight.size !== 0) {
      const pending = this.inflight.get(key)
      if (pending !== undefined) return this.features?.lock === undefined ? pending : this.join(pending, thisArg, args, key, last)
    }
    return this.startLoad(thisArg, args, key, last)
  }

  /**
   * The first miss of `key` on a plain engine (no features) over an `InMemCache`, called with one
   * argument and no load of `key` under way: `startLoad` without the arguments array.
   */
  missOne(thisArg: unknown, a0: unknown, key: string): unknown {
    const t0 = this.metrics === undefined ? 0 : performance.now()
    let result: unknown
    try {
      result = this.fn.call(thisArg, a0)
    } catch (error) {
      this.metrics?.recordError(this.name, 'load', errorTypeOf(error))
      throw error
    }
    return this.loaded(key, result, t0, LOAD)
  }

  /** `last`: the dead entry the load replaces, if the store still had it. */
  private startLoad(thisArg: unknown, args: unknown[], key: string, last?: CacheEntry, kind: LoadKind = LOAD): unknown {
    if (this.features !== undefined) return this.featuredLoad(thisArg, args, key, last, kind)
    const t0 = this.metrics === undefined ? 0 : performance.now()
    let result: unknown
    try {
      result = this.fn.apply(thisArg, args)
    } catch (error) {
      this.metrics?.recordError(this.name, 'load', errorTypeOf(error))
      throw error
    }
    return this.loaded(key, result, t0, kind)
  }

  /** What a plain load answers once the function returned `result`: its promise in flight, or the stored value. */
  private loaded(key: string, result: unknown, t0: number, kind: LoadKind): unknown {
    if (isThenable(result)) {
      this.asyncMode = true
      // A miss waits in the in-memory store; a refresh leaves the entry it replaces there to be served meanwhile.
      if (this.mem !== undefined && kind === LOAD) return this.holdFlight(key, Promise.resolve(result), t0)
      return this.fly(key, Promise.resolve(result), t0)
    }
    this.recordLoad(t0)
    const written = this.write(key, result)
    return isThenable(written) ? written.then(() => result) : result
  }

  /**
   * A miss on an `InMemCache`: the load waits in the store as a placeholder record at `key`, which
   * later misses join (see {@link decide}) and which is filled in place when the value lands — one
   * map insertion per miss, no separate in-flight bookkeeping. Callers get the load's own promise:
   * the landing is a reaction registered before any caller's, so the value is stored before they
   * resume. Deleting, overwriting or clearing the key meanwhile drops the placeholder: the load
   * then answers its callers but does not write.
   */
  private holdFlight(key: string, pending: Promise<unknown>, t0: number): Promise<unknown> {
    const rec = this.mem!.hold(key, this, pending, clockNow())
    pending.then(
      (value) => this.landHeld(key, rec, value, t0),
      (error) => this.failHeld(key, rec, error),
    )
    return pending
  }

  private landHeld(key: string, rec: MemRecord, value: unknown, t0: number): void {
    const mem = this.mem!
    // Nothing here may throw: this promise has no listener (a throwing metrics exporter is reported).
    try {
      this.recordLoad(t0)
      if (value === undefined || (value === null && !this.cacheNull)) mem.release(key, rec)
      // Stamped with the amortised clock: a reading at most ~1 ms (or a few dozen reads) old can only make
      // the entry expire that much early, never late, and a miss does not pay for a clock read.
      else if (mem.land(key, rec, value, clockNow(), this.ttl, this.life) && this.metrics !== undefined) this.recordSet(mem)
    } catch (error) {
      mem.release(key, rec)
      reportError(error, { cacheName: this.name, key, operation: 'set' }, undefined, this.onError, this.logger)
    }
  }

  private failHeld(key: string, rec: MemRecord, error: unknown): void {
    this.mem!.release(key, rec)
    try {
      this.metrics?.recordError(this.name, 'load', errorTypeOf(error))
    } catch (failure) {
      reportError(failure, { cacheName: this.name, key, operation: 'load' }, undefined, this.onError, this.logger)
    }
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
    const ttl = this.life
    if (this.ahead !== undefined) this.ahead.written(key, createdAt)
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
  refreshInBackground(thisArg: unknown, args: unknown[], key: string, now: number, found: CacheEntry | MemRecord): void {
    if (this.inflight.has(key) || !mayRetryRefresh(this.failures.get(key), now)) return
    if (this.features !== undefined) {
      const entry = this.entryOf(found)
      const run = () => this.backgroundLoad(thisArg, args, key, entry).catch(noop)
      if (this.asyncMode) {
        void run()
        return
      }
      // A synchronous function runs right after the caller got the stale value; the placeholder keeps
      // other stale reads meanwhile from starting another refresh.
      const placeholder: Promise<unknown> = Promise.resolve().then(() => {
        if (this.inflight.get(key) === placeholder) this.inflight.delete(key)
        return run()
      })
      this.inflight.set(key, placeholder)
      return
    }
    let pending: unknown
    if (this.asyncMode) {
      try {
        pending = this.startLoad(thisArg, args, key, undefined, BACKGROUND)
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
    const held = this.mem?.slot(key, clockNow())
    if (held !== undefined && held.ttl === PENDING && held.value === this) return held.promise
    const pending = this.inflight.get(key)
    if (pending !== undefined) return this.features?.lock === undefined ? pending : this.join(pending, thisArg, args, key, undefined)
    return this.startLoad(thisArg, args, key, undefined, REFRESH)
  }

  invalidate(args: unknown[]): MaybePromise<void> {
    const key = this.keyOf(args)
    this.generation++
    this.inflight.delete(key)
    this.failures.delete(key)
    this.ahead?.forget(key)
    this.metrics?.recordDelete(this.name)
    return this.store.delete(key)
  }

  clear(): MaybePromise<void> {
    this.generation++
    this.inflight.clear()
    this.failures.clear()
    this.ahead?.forgetAll()
    return this.store.clear()
  }

  peek(args: unknown[]): unknown {
    const got = this.store.getEntry(this.keyOf(args))
    const pick = (entry: CacheEntry | undefined) =>
      entry !== undefined && entryState(entry.freshUntil, clockNow(), this.stale) !== DEAD ? entry.value : undefined
    return isThenable(got) ? (got as Promise<CacheEntry | undefined>).then(pick) : pick(got)
  }

  // ---- lock, refreshAhead, timeout, staleIfError: only engines with `features` come here ----

  /** A load with features: through the store's lock, under timeouts, with a stale fallback on failure. */
  private featuredLoad(thisArg: unknown, args: unknown[], key: string, last: CacheEntry | undefined, kind: LoadKind): unknown {
    const generation = this.generation
    if (this.features!.lock !== undefined) return this.lockedFlight(thisArg, args, key, last, kind, generation)
    const t0 = this.metrics === undefined ? 0 : performance.now()
    const control = this.loadControl()
    let result: unknown
    try {
      result = control === undefined ? this.fn.apply(thisArg, args) : control.call(this.fn, thisArg, args)
    } catch (error) {
      control?.done()
      this.metrics?.recordError(this.name, 'load', errorTypeOf(error))
      if (staleIfErrorServes(kind, last, preciseNow(), this.stale, this.features!.staleIfError)) {
        this.reportLoadError(key, error)
        return this.asyncMode ? Promise.resolve(last!.value) : last!.value
      }
      throw error
    }
    if (!isThenable(result)) {
      // A synchronous result: no deadline applies, the function stays synchronous.
      control?.done()
      this.recordLoad(t0)
      const written = this.keep(key, result, thisArg, args, kind)
      return isThenable(written) ? written.then(() => result) : result
    }
    this.asyncMode = true
    const flight: { answer?: Promise<unknown> } = {}
    const answer = this.settle(thisArg, args, key, Promise.resolve(result), last, kind, generation, t0, control, () => this.untrack(key, flight.answer))
    flight.answer = answer
    this.inflight.set(key, answer)
    return answer
  }

  /** The load of `key` is over: later callers start a new one. (Before its callers resume, so they see the new state.) */
  private untrack(key: string, answer: Promise<unknown> | undefined): void {
    if (answer !== undefined && this.inflight.get(key) === answer) this.inflight.delete(key)
  }

  /** In-process callers joining a locked flight: a background refresh that skipped does not answer them. */
  private join(pending: Promise<unknown>, thisArg: unknown, args: unknown[], key: string, last: CacheEntry | undefined): Promise<unknown> {
    return pending.then((value) => (value === SKIPPED ? this.load(thisArg, args, key, last) : value))
  }

  private loadControl(): LoadControl | undefined {
    return this.features!.timeouts !== undefined || this.ahead !== undefined ? new LoadControl() : undefined
  }

  /**
   * Waits for a loader's promise under the soft and hard timeouts, stores its value and answers the
   * callers. Returns what callers get (possibly early: a soft timeout, a stale value on error);
   * `onDone` runs once when the load is over (value stored, or failed, or timed out), before any
   * answer that comes with it.
   */
  private settle(
    thisArg: unknown,
    args: unknown[],
    key: string,
    pending: Promise<unknown>,
    last: CacheEntry | undefined,
    kind: LoadKind,
    generation: number,
    t0: number,
    control: LoadControl | undefined,
    onDone: () => void,
  ): Promise<unknown> {
    const timeouts = this.features!.timeouts
    let resolveAnswer!: (value: unknown) => void
    let rejectAnswer!: (error: unknown) => void
    const answer = new Promise<unknown>((resolve, reject) => {
      resolveAnswer = resolve
      rejectAnswer = reject
    })
    let answered = false
    let timedOut = false
    let softTimer: ReturnType<typeof setTimeout> | undefined
    let hardTimer: ReturnType<typeof setTimeout> | undefined
    /** Answers the callers once; false when they already had their answer. */
    const finish = (ok: boolean, value: unknown): boolean => {
      if (answered) return false
      answered = true
      if (softTimer !== undefined) clearTimeout(softTimer)
      if (ok) resolveAnswer(value)
      else rejectAnswer(value)
      return true
    }
    const fail = (error: unknown) => {
      this.metrics?.recordError(this.name, 'load', errorTypeOf(error))
      if (staleIfErrorServes(kind, last, preciseNow(), this.stale, this.features!.staleIfError)) {
        this.reportLoadError(key, error)
        finish(true, last!.value)
      } else if (!finish(false, error)) {
        // The callers already had a value (soft timeout): the failure goes to onError / the logger.
        this.reportLoadError(key, error)
      }
    }
    if (timeouts !== undefined) {
      if (timeouts.soft > 0 && kind === LOAD && last !== undefined) {
        const fallback = last.value
        softTimer = setTimeout(() => finish(true, fallback), timeouts.soft * 1000)
      }
      if (timeouts.hard > 0) {
        hardTimer = setTimeout(() => {
          timedOut = true
          const error = loaderTimeout(this.name, key, timeouts.hard)
          control?.abort(error)
          onDone()
          fail(error)
        }, timeouts.hard * 1000)
      }
    }
    pending
      .then(
        async (value) => {
          // An aborted load's late value is not stored: a newer load may already be under way.
          if (timedOut) return
          if (hardTimer !== undefined) clearTimeout(hardTimer)
          control?.done()
          this.recordLoad(t0)
          if (generation === this.generation) {
            try {
              const written = this.keep(key, value, thisArg, args, kind)
              if (written !== undefined) await written
            } catch (error) {
              onDone()
              if (!finish(false, error)) reportError(error, { cacheName: this.name, key, operation: 'set' }, undefined, this.onError, this.logger)
              return
            }
          }
          onDone()
          finish(true, value)
        },
        (error) => {
          if (timedOut) return
          if (hardTimer !== undefined) clearTimeout(hardTimer)
          control?.done()
          onDone()
          fail(error)
        },
      )
      .catch((error) => reportError(error, { cacheName: this.name, key, operation: 'load' }, undefined, this.onError, this.logger))
    return answer
  }

  /** Stores a loaded value; a value loaded for a caller (not by refresh-ahead itself) keeps the key scheduled. */
  private keep(key: string, value: unknown, thisArg: unknown, args: unknown[], kind: LoadKind): MaybePromise<void> {
    if (this.ahead !== undefined && kind !== BACKGROUND && value !== undefined && (value !== null || this.cacheNull)) {
      this.ahead.touch(key, thisArg, args, clockNow())
    }
    return this.write(key, value)
  }

  private reportLoadError(key: string, error: unknown): void {
    reportError(error, { cacheName: this.name, key, operation: 'load' }, undefined, this.onError, this.logger)
  }

  /**
   * Distributed single flight: take the store's lock (or wait for the holder's value), then load
   * as {@link featuredLoad} does and release once the value is stored.
   */
  private lockedFlight(
    thisArg: unknown,
    args: unknown[],
    key: string,
    last: CacheEntry | undefined,
    kind: LoadKind,
    generation: number,
  ): Promise<unknown> {
    const lockSettings = this.features!.lock!
    // What answers this load if another process wrote it: for a miss any live entry; for a refresh
    // one written after it started (or newer than the entry being refreshed).
    const since = kind === LOAD ? -Infinity : kind === REFRESH ? preciseNow() : (last?.createdAt ?? -Infinity)
    const usable =
      kind === LOAD
        ? (entry: CacheEntry) => entryState(entry.freshUntil, preciseNow(), this.stale) !== DEAD
        : kind === REFRESH
          ? (entry: CacheEntry) => entry.createdAt >= since
          : (entry: CacheEntry) => entry.createdAt > since
    const flight: { answer?: Promise<unknown> } = {}
    const answer = (async () => {
      let outcome
      try {
        outcome = await acquireLock({
          store: this.store as CacheStorage & LockingStorage,
          key,
          timeout: lockSettings.timeout,
          read: () => this.readEntry(key),
          usable,
          wait: kind !== BACKGROUND,
          onLockError: (error) => reportError(error, { cacheName: this.name, key, operation: 'lock' }, this.metrics, this.onError, this.logger),
        })
      } catch (error) {
        this.untrack(key, flight.answer)
        throw error
      }
      if (outcome.kind === 'value' || outcome.kind === 'busy') {
        this.untrack(key, flight.answer)
        return outcome.kind === 'value' ? outcome.value : SKIPPED
      }
      const lock = outcome.kind === 'held' ? outcome.lock : undefined
      const t0 = this.metrics === undefined ? 0 : performance.now()
      const control = this.loadControl()
      let result: unknown
      try {
        result = control === undefined ? this.fn.apply(thisArg, args) : control.call(this.fn, thisArg, args)
      } catch (error) {
        result = Promise.reject(error)
      }
      // The lock is held until the value is stored, even when a soft timeout answered the callers earlier.
      return this.settle(thisArg, args, key, Promise.resolve(result), last, kind, generation, t0, control, () => {
        this.untrack(key, flight.answer)
        if (lock !== undefined) void releaseQuietly(lock)
      })
    })()
    flight.answer = answer
    this.inflight.set(key, answer)
    return answer
  }

  /** Reads an entry for the lock and refresh-ahead paths; a failed read counts as none (the store reports it). */
  async readEntry(key: string): Promise<CacheEntry | undefined> {
    try {
      return await this.store.getEntry(key)
    } catch {
      return undefined
    }
  }

  /** Refresh-ahead: keep the last good entry physically for `seconds` more after a failed refresh. */
  keepEntry(key: string, entry: CacheEntry, seconds: number): void {
    const fail = (error: unknown) => reportError(error, { cacheName: this.name, key, operation: 'set' }, undefined, this.onError, this.logger)
    try {
      const kept = this.store.setEntry(key, { value: entry.value, createdAt: entry.createdAt, freshUntil: entry.freshUntil }, seconds)
      if (isThenable(kept)) kept.then(undefined, fail)
    } catch (error) {
      fail(error)
    }
  }

  /** Refresh-ahead's refresh: joins a load under way; resolves whether it refreshed (false: another process holds the lock). */
  refreshAhead(key: string, thisArg: unknown, args: unknown[], entry: CacheEntry | undefined): Promise<boolean> {
    const pending = this.inflight.get(key)
    if (pending !== undefined) return pending.then((value) => value !== SKIPPED)
    return this.backgroundLoad(thisArg, args, key, entry)
  }

  /** A background refresh with features: reported like an SWR refresh; rejects with its (reported) failure. */
  private backgroundLoad(thisArg: unknown, args: unknown[], key: string, entry: CacheEntry | undefined): Promise<boolean> {
    let result: unknown
    try {
      result = this.startLoad(thisArg, args, key, entry, BACKGROUND)
    } catch (error) {
      result = Promise.reject(error)
    }
    return Promise.resolve(result).then(
      (value) => {
        if (value === SKIPPED) return false
        this.refreshSettled(key, undefined)
        return true
      },
      (error) => {
        this.refreshSettled(key, error)
        throw error
      },
    )
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
  // Refresh-ahead notes every read, so its hits go through `decide`.
  if (mem === undefined || unary === undefined || engine.ahead !== undefined) return general
  const name = engine.name
  const metrics = engine.metrics
  const plain = engine.features === undefined
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
    // A record, a placeholder of a load under way (never fresh) or nothing.
    const rec = mem.slot(key, now)
    if (rec !== undefined && now < rec.createdAt + rec.ttl) {
      if (metrics !== undefined) metrics.recordHit(name, false)
      return engine.asyncMode ? (rec.promise ??= Promise.resolve(rec.value)) : rec.value
    }
    if (rec === undefined && n === 1 && plain && engine.inflight.size === 0) {
      // A first miss: nothing to join, nothing to serve.
      if (metrics !== undefined) metrics.recordMiss(name)
      return engine.missOne(this, a0, key)
    }
    return engine.decide(this, n === 1 ? [a0] : [], key, rec, false)
  }
}

/** What `cache(ttl, { batch })` returns: wraps a function of many ids into a function of one id. */
export interface BatchDecorator {
  <K, V>(fn: BatchLoadFn<K, V>): Batched<K, V>
}

/** Validated `cache()` options, before a function is known. */
export interface CacheSettings {
  ttl: number
  stale: number
  options: CacheOptions
  metrics: MetricsCollector | undefined
  onError: ErrorHandler | undefined
  logger: Logger | null
  /** `lock`, `refreshAhead`, `timeout`, `staleIfError`; `undefined` when none is set. */
  features: EngineFeatures | undefined
}

/** Parses the options that need more than a TTL engine; `undefined` when none is set. */
function checkFeatures(opts: CacheOptions, ttl: number): EngineFeatures | undefined {
  if (opts.lock === undefined && opts.refreshAhead === undefined && opts.timeout === undefined && opts.staleIfError === undefined) {
    return undefined
  }
  const features: EngineFeatures = {
    lock: parseLock(opts.lock),
    refreshAhead: parseRefreshAhead(opts.refreshAhead, Math.max(ttl, 0)),
    timeouts: opts.timeout === undefined ? undefined : parseTimeouts(opts.timeout),
    staleIfError: opts.staleIfError === undefined ? 0 : parseDuration(opts.staleIfError, 'staleIfError'),
  }
  const used = features.lock !== undefined || features.refreshAhead !== undefined || features.timeouts !== undefined || features.staleIfError > 0
  return used ? features : undefined
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
    features: checkFeatures(opts, ttl),
  }
}

let anonymousCount = 0

function decorate<F extends AnyFn>(settings: CacheSettings, fn: F, contextName?: string): Cached<F> {
  if (settings.options.batch !== undefined) return decorateBatch(settings, fn, contextName) as unknown as Cached<F>
  if (typeof fn !== 'function') throw new TypeError(`cache(): expected a function to wrap, got ${typeof fn}`)
  const { ttl, stale, options } = settings
  const store = options.store === undefined ? new InMemCache() : resolveStore(options.store, 'store')
  if (settings.features?.lock !== undefined) checkLockStore(store)
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
    engine = new CacheEngine(fn, name, ttl, stale, store, keyOf, settings.metrics, options.cacheNull === true, settings.onError, settings.logger, settings.features)
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
 *
 * // Batching: concurrent calls with one id each become one call with all the missing ids
 * const getUserById = cache(60, { key: 'user:{0}', batch: { windowMs: 5 } })(async (ids: number[]) => db.fetchUsers(ids))
 * await Promise.all([getUserById(1), getUserById(2)]) // one db.fetchUsers([1, 2])
 */
export function cache(ttl: Duration, options: CacheOptions & { batch: BatchOptions | true }): BatchDecorator
export function cache(ttl: Duration, options?: CacheOptions): CacheDecorator
export function cache(ttl: Duration, options?: CacheOptions): CacheDecorator | BatchDecorator {
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

/**
 * The `AbortSignal` of the load running in the current async context: aborted on the function's
 * hard `timeout` and on `bg.shutdown()`. `undefined` outside a loader, and in loaders of functions
 * without `timeout` or `refreshAhead`.
 *
 * @example
 * const getUser = cache(60, { timeout: { hard: 2 } })(async (id: number) =>
 *   (await fetch(`https://users.internal/${id}`, { signal: cache.signal() })).json(),
 * )
 */
cache.signal = loaderSignal
