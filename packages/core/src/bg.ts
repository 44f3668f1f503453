import { cache, type Cached, type Duration, type StoreOption } from './cache.js'
import { now as clockNow } from './clock.js'
import { parseDuration } from './duration.js'
import { checkLogger, checkOnError, checkOptionKeys, isThenable, reportError, type Logger } from './error-reporting.js'
import { InMemCache } from './in-mem-cache.js'
import { checkMetricsOption, NULL_METRICS } from './metrics.js'
import { resolveStore } from './store-resolution.js'
import { stopCacheWork } from './shutdown.js'
import type { CacheEntry, CacheStorage, ErrorHandler, MaybePromise, MetricsCollector } from './types.js'

/** Options of {@link bg} and `bg.write`. */
export interface BgOptions {
  /** The key the value is stored under (static; required). */
  key: string
  /** How long a loaded value stays valid. Default: 2 × interval. */
  ttl?: Duration
  /** Where the value lives. Default: a private `InMemCache`. */
  store?: StoreOption
  /** Receives `recordBackgroundRefresh` outcomes, errors and hits. */
  metrics?: MetricsCollector
  /** Receives failed ticks. Without it they are logged as warnings. */
  onError?: ErrorHandler
  /** Load at registration, unless the store already holds a fresh value. Default true. */
  runImmediately?: boolean
  /** The name used in metrics. Default: the key. */
  name?: string
  /** Where warnings go when there is no `onError`. Default `console`; `null` silences them. */
  logger?: Logger | null
}

/** Options of `bg.read`. */
export interface BgReadOptions {
  /** How often the private mirror syncs from the source. `0` (default): pull on a local miss instead. */
  interval?: Duration
  /** The source store. Default: the store of this process's `bg.write` writer of the same key. */
  store?: StoreOption
  /** How long the mirror keeps a copy. Default: the writer's ttl when discovered, else 60 s. */
  ttl?: Duration
  metrics?: MetricsCollector
  onError?: ErrorHandler
  name?: string
  logger?: Logger | null
}

/** A value kept fresh by a background timer: call it for the current value. */
export interface BgFunction<R> {
  (): R
  /** The key the value lives under. */
  readonly key: string
  /** The store the value lives in. */
  readonly store: CacheStorage
  /** Run the loader now (joining a run already under way) and store the result. */
  refresh(): MaybePromise<Awaited<R>>
  /** Stop this job's timer (and release its writer registration). */
  stop(): void
}

/** A getter over a private in-process mirror of a key another job writes. */
export interface BgReader<T> {
  /** The mirrored value; with `interval: 0` and an asynchronous source, a local miss returns a promise. */
  (): T | undefined | Promise<T | undefined>
  readonly key: string
  /** Sync the mirror from the source now. */
  sync(): Promise<T | undefined>
  /** Stop syncing. */
  stop(): void
}

interface Job {
  stop(): void
}

const BG_OPTIONS = ['key', 'ttl', 'store', 'metrics', 'onError', 'runImmediately', 'name', 'logger'] as const
const READ_OPTIONS = ['interval', 'store', 'ttl', 'metrics', 'onError', 'name', 'logger'] as const
const DEFAULT_READER_TTL = 60

const jobs = new Set<Job>()
const writers = new Map<string, { store: CacheStorage; ttl: number }>()

function unrefInterval(fn: () => void, seconds: number): ReturnType<typeof setInterval> {
  const timer = setInterval(fn, seconds * 1000)
  // Background work must never keep the process alive.
  if (typeof timer === 'object' && timer !== null && typeof timer.unref === 'function') timer.unref()
  return timer
}

function register<R>(where: string, intervalInput: Duration, options: BgOptions, fn: () => R, writer: boolean): BgFunction<R> {
  checkOptionKeys(where, options, BG_OPTIONS)
  if (options === undefined) throw new TypeError(`${where}: options with a "key" are required`)
  if (typeof fn !== 'function') throw new TypeError(`${where}: expected a function to run, got ${typeof fn}`)
  const interval = parseDuration(intervalInput, 'interval')
  if (interval <= 0) throw new TypeError(`${where}: option "interval" must be greater than 0 (got ${String(intervalInput)})`)
  const key = options.key
  if (typeof key !== 'string' || key === '') throw new TypeError(`${where}: option "key" must be a non-empty string`)
  const ttl = options.ttl === undefined ? 2 * interval : parseDuration(options.ttl, 'ttl')
  if (ttl <= 0) throw new TypeError(`${where}: option "ttl" must be greater than 0`)
  if (options.runImmediately !== undefined && typeof options.runImmediately !== 'boolean') {
    throw new TypeError(`${where}: option "runImmediately" must be a boolean`)
  }
  const onError = checkOnError(where, options.onError)
  const logger = checkLogger(where, options.logger)
  const name = options.name ?? key
  if (writer && writers.has(key)) {
    throw new Error(`${where}: key "${key}" already has a writer in this process (one bg.write per key; bg.shutdown() releases it)`)
  }
  const store = options.store === undefined ? new InMemCache() : resolveStore(options.store, 'store')
  const metrics = options.metrics === NULL_METRICS ? undefined : options.metrics

  const cached = cache(ttl, { key: () => key, store, metrics, name, onError, logger })(fn) as Cached<() => R>

  let running = false
  const settled = (error: unknown) => {
    running = false
    metrics?.recordBackgroundRefresh(name, error === undefined)
    if (error !== undefined) reportError(error, { cacheName: name, key, operation: 'tick' }, undefined, onError, logger)
  }
  // A tick never overlaps the previous one: a tick that finds a run under way is skipped.
  const tick = () => {
    if (running) return
    running = true
    let result: unknown
    try {
      result = cached.refresh()
    } catch (error) {
      settled(error)
      return
    }
    if (isThenable(result)) result.then(() => settled(undefined), settled)
    else settled(undefined)
  }

  const timer = unrefInterval(tick, interval)
  const job: Job = {
    stop() {
      clearInterval(timer)
      jobs.delete(job)
      if (writer && writers.get(key)?.store === store) writers.delete(key)
    },
  }
  jobs.add(job)
  if (writer) writers.set(key, { store, ttl })

  if (options.runImmediately !== false) {
    // A fresh value already in the (shared) store is used as it is: a fleet restarting against a
    // warm store must not all call the loader.
    const startIfCold = (entry: CacheEntry | undefined) => {
      if (entry === undefined || !(clockNow() < entry.freshUntil)) tick()
    }
    let held: MaybePromise<CacheEntry | undefined>
    try {
      held = store.getEntry(key)
    } catch {
      held = undefined
    }
    if (isThenable(held)) held.then(startIfCold, () => startIfCold(undefined))
    else startIfCold(held)
  }

  const getter = function () {
    return cached()
  } as BgFunction<R>
  Object.defineProperties(getter, {
    key: { value: key, enumerable: true },
    store: { value: store, enumerable: true },
    name: { value: fn.name || name, configurable: true },
  })
  getter.refresh = () => cached.refresh() as MaybePromise<Awaited<R>>
  getter.stop = () => job.stop()
  return getter
}

function read<T = unknown>(key: string, options: BgReadOptions = {}): BgReader<T> {
  const where = 'bg.read()'
  if (typeof key !== 'string' || key === '') throw new TypeError(`${where}: "key" must be a non-empty string`)
  checkOptionKeys(where, options, READ_OPTIONS)
  const interval = options.interval === undefined ? 0 : parseDuration(options.interval, 'interval')
  const explicitTtl = options.ttl === undefined ? undefined : parseDuration(options.ttl, 'ttl')
  const explicitStore = options.store === undefined ? undefined : resolveStore(options.store, 'store')
  const onError = checkOnError(where, options.onError)
  const logger = checkLogger(where, options.logger)
  const checked = checkMetricsOption(where, options.metrics)
  const metrics = checked === NULL_METRICS ? undefined : checked
  const name = options.name ?? key
  const mirror = new InMemCache()

  const source = () => explicitStore ?? writers.get(key)?.store
  const localTtl = () => explicitTtl ?? writers.get(key)?.ttl ?? DEFAULT_READER_TTL

  let pulling: Promise<T | undefined> | undefined
  const keep = (entry: CacheEntry | undefined): T | undefined => {
    if (entry === undefined) return mirror.get(key) as T | undefined
    mirror.setEntry(key, entry, localTtl())
    return entry.value as T
  }
  const failed = (error: unknown): T | undefined => {
    reportError(error, { cacheName: name, key, operation: 'sync' }, metrics, onError, logger)
    return mirror.get(key) as T | undefined
  }
  /** Copy the source's entry into the mirror: synchronously when the source answers synchronously. */
  const pull = (): MaybePromise<T | undefined> => {
    if (pulling !== undefined) return pulling
    const src = source()
    if (src === undefined) return undefined
    let got: MaybePromise<CacheEntry | undefined>
    try {
      got = src.getEntry(key)
    } catch (error) {
      return failed(error)
    }
    if (!isThenable(got)) return keep(got)
    const p = (got as Promise<CacheEntry | undefined>).then(keep, failed).finally(() => {
      if (pulling === p) pulling = undefined
    })
    pulling = p
    return p
  }

  let timer: ReturnType<typeof setInterval> | undefined
  if (interval > 0) {
    timer = unrefInterval(() => void pull(), interval)
    void pull()
  }
  const job: Job = {
    stop() {
      if (timer !== undefined) clearInterval(timer)
      jobs.delete(job)
    },
  }
  jobs.add(job)

  const reader = function () {
    const rec = mirror.record(key, clockNow())
    if (rec !== undefined) {
      metrics?.recordHit(name, false)
      return rec.value as T
    }
    metrics?.recordMiss(name)
    return interval === 0 ? pull() : undefined
  } as BgReader<T>
  Object.defineProperty(reader, 'key', { value: key, enumerable: true })
  reader.sync = async () => pull()
  reader.stop = () => job.stop()
  return reader
}

/** The `bg` function with its `write`, `read` and `shutdown` members. */
export interface Bg {
  /**
   * Keeps a value fresh in the background: the loader runs every `interval` (from registration,
   * never overlapping itself); every call is a local read. On a local miss the call runs (or joins)
   * the loader and gets its error.
   *
   * @example
   * const loadFlags = bg(300, { key: 'feature_flags' })(async () => remoteConfig.fetch())
   * const flags = await loadFlags()
   */
  <R>(interval: Duration, options: BgOptions): (fn: () => R) => BgFunction<R>
  /**
   * Like `bg`, as the single writer of `key` in this process (a second registration throws), so
   * `bg.read` readers — here or, through a shared store, elsewhere — can mirror it.
   *
   * @example
   * const refreshRates = bg.write(60, { key: 'exchange_rates', store: redisStore })(async () => forex.fetchAll())
   */
  write<R>(interval: Duration, options: BgOptions): (fn: () => R) => BgFunction<R>
  /**
   * A getter over a private in-memory mirror of `key`, synced from `store` every `interval`
   * (or pulled on a local miss with `interval: 0`). Without `store`, it uses the store of this
   * process's writer of `key`.
   *
   * @example
   * const getRates = bg.read('exchange_rates', { interval: 30, store: redisStore })
   * getRates() // the mirrored value, or undefined before the first sync
   */
  read<T = unknown>(key: string, options?: BgReadOptions): BgReader<T>
  /**
   * Stops every timer and forgets writer registrations; also stops `cache()` refresh-ahead schedules
   * and aborts the `cache.signal()` of loads under way. Idempotent.
   */
  shutdown(): Promise<void>
}

export const bg: Bg = Object.assign(
  <R>(interval: Duration, options: BgOptions) =>
    (fn: () => R) =>
      register('bg()', interval, options, fn, false),
  {
    write:
      <R>(interval: Duration, options: BgOptions) =>
      (fn: () => R) =>
        register('bg.write()', interval, options, fn, true),
    read,
    shutdown(): Promise<void> {
      for (const job of [...jobs]) job.stop()
      jobs.clear()
      writers.clear()
      // cache() work too: refresh-ahead schedules and the signals of loads under way.
      stopCacheWork()
      return Promise.resolve()
    },
  },
)
