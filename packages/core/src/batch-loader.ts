/**
 * DataLoader-style batching for `cache(ttl, { batch })`: calls made with one id each are collected
 * for a short window, checked against the store in one `getMany`, and the misses are loaded with
 * one call of the batch function (deduplicated, split at `maxBatchSize`), written back with one
 * `setMany` per call.
 */
import { now as clockNow } from './clock.js'
import { checkOptionKeys, errorTypeOf, isThenable } from './error-reporting.js'
import { InMemCache } from './in-mem-cache.js'
import { compileKey, type KeyBuilder } from './key-template.js'
import { NULL_METRICS } from './metrics.js'
import { resolveStore } from './store-resolution.js'
// Type-only: cache.ts imports this module at run time, never the other way round.
import type { CacheSettings } from './cache.js'
import type { CacheStorage, MaybePromise, MetricsCollector } from './types.js'

/** The `batch` option of `cache()`: `true` for the defaults, or an object. */
export interface BatchOptions {
  /**
   * How long (milliseconds) to collect calls before loading them. `0` (default): the calls made in
   * the current macrotask (the batch is dispatched with `setImmediate`, as DataLoader collects a tick).
   */
  windowMs?: number
  /** The most ids passed to one call of the batch function; more misses are split into several calls. Default `Infinity`. */
  maxBatchSize?: number
}

/**
 * A batch function: receives distinct ids and returns their values, as a `Map` from id to value or
 * as an array in the order of `ids` (of the same length). An id left out of the Map, or
 * `undefined` in it or in the array, is "not found": not cached, and its callers get `undefined`.
 */
export type BatchLoadFn<K, V> = (
  ids: K[],
) => MaybePromise<ReadonlyMap<K, V | undefined> | ReadonlyArray<V | undefined>>

/** The members of a function returned by `cache(ttl, { batch })`, besides being callable with one id. */
export interface BatchedMembers<K, V> {
  /**
   * The values of several ids (through the same batching); `undefined` where not found.
   * @example
   * await getUser.many([1, 2, 3]) // [{ id: 1, … }, { id: 2, … }, undefined]
   */
  many(ids: readonly K[]): Promise<Array<V | undefined>>
  /** Remove the entry of `id`; a load already running for it completes for its callers but does not write. */
  invalidate(id: K): MaybePromise<void>
  /** Remove every entry of the store (a shared store is cleared for everyone using it). */
  clear(): MaybePromise<void>
  /** Load `id` now, skipping the store read (joining a load already queued or running for it), and store the result. */
  refresh(id: K): Promise<V | undefined>
  /** The cached value of `id` without loading it, or `undefined`. Records no metrics. */
  peek(id: K): MaybePromise<V | undefined>
  /** The key `id` maps to. */
  key(id: K): string
  /** The store the entries live in. */
  readonly store: CacheStorage
}

/**
 * What `cache(ttl, { batch })(loadMany)` returns: call it with one id, get a promise of its value.
 *
 * @example
 * const getUser = cache(60, { key: 'user:{0}', batch: { windowMs: 5 } })(
 *   async (ids: number[]) => new Map((await db.usersByIds(ids)).map((u) => [u.id, u])),
 * ) as unknown as Batched<number, User>
 * const [a, b] = await Promise.all([getUser(1), getUser(2)]) // one call: ids [1, 2]
 * await getUser.many([1, 2, 3])                              // one more call: ids [3]
 */
export type Batched<K, V> = ((id: K) => Promise<V | undefined>) & BatchedMembers<K, V>

/** Options `cache()` can take together with `batch`; any other one given with it is a TypeError. */
const BATCH_COMPATIBLE = new Set(['batch', 'key', 'store', 'metrics', 'name', 'cacheNull', 'onError', 'logger'])
const BATCH_KEYS = ['windowMs', 'maxBatchSize'] as const

interface CheckedBatch {
  windowMs: number
  maxBatchSize: number
}

function checkBatchOptions(batch: unknown): CheckedBatch {
  if (batch === true) return { windowMs: 0, maxBatchSize: Infinity }
  checkOptionKeys('cache(): option "batch"', batch, BATCH_KEYS)
  if (batch === undefined || batch === null) throw new TypeError('cache(): option "batch" must be true or an object')
  const { windowMs = 0, maxBatchSize = Infinity } = batch as BatchOptions
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs < 0) {
    throw new TypeError(`cache(): option "batch.windowMs" must be a finite number of milliseconds >= 0 (got ${String(windowMs)})`)
  }
  if (typeof maxBatchSize !== 'number' || !(maxBatchSize === Infinity || (Number.isInteger(maxBatchSize) && maxBatchSize >= 1))) {
    throw new TypeError(`cache(): option "batch.maxBatchSize" must be a positive integer or Infinity (got ${String(maxBatchSize)})`)
  }
  return { windowMs, maxBatchSize }
}

/** The callers of one key: queued in the current window, then in flight until the load lands. */
class Waiter {
  /** How many calls share this waiter (hits/misses are recorded per call). */
  calls = 1
  /** Skip the store read (`refresh`). */
  force = false
  /** Dispatched: later callers join a load that is already running. */
  flying = false
  /** Invalidated or cleared while in flight: its value goes to its callers but is not written. */
  cancelled = false
  readonly promise: Promise<unknown>
  resolve!: (value: unknown) => void
  reject!: (error: unknown) => void
  constructor(
    readonly id: unknown,
    readonly key: string,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
  }
}

let batchCount = 0

/** The state of one batched function: its window, its queued and in-flight keys. */
class BatchEngine {
  readonly mem: InMemCache | undefined
  readonly metrics: MetricsCollector | undefined
  /** Keys queued in the current window or in flight. */
  readonly pending = new Map<string, Waiter>()
  private queue: Waiter[] = []
  private queueThis: unknown = undefined
  private scheduled = false

  constructor(
    readonly fn: (this: unknown, ids: unknown[]) => unknown,
    readonly name: string,
    /** `<= 0`: nothing is read from or written to the store; calls are still batched. */
    readonly ttl: number,
    readonly store: CacheStorage,
    readonly keyOne: (id: unknown) => string,
    metrics: MetricsCollector | undefined,
    readonly cacheNull: boolean,
    readonly windowMs: number,
    readonly maxBatchSize: number,
  ) {
    this.mem = store instanceof InMemCache && ttl > 0 ? store : undefined
    // NULL_METRICS: skip instrumentation altogether, as cache() does.
    this.metrics = metrics === NULL_METRICS ? undefined : metrics
  }

  /** One call: a hit in an in-memory store is answered at once; anything else waits for the window. */
  call(thisArg: unknown, id: unknown): Promise<unknown> {
    let key: string
    try {
      key = this.keyOne(id)
    } catch (error) {
      return Promise.reject(error)
    }
    const mem = this.mem
    if (mem !== undefined) {
      const now = clockNow()
      const rec = mem.record(key, now)
      if (rec !== undefined && now < rec.createdAt + rec.ttl) {
        this.metrics?.recordHit(this.name, false)
        return (rec.promise ??= Promise.resolve(rec.value))
      }
    }
    return this.enqueue(thisArg, id, key, false)
  }

  enqueue(thisArg: unknown, id: unknown, key: string, force: boolean): Promise<unknown> {
    const joined = this.pending.get(key)
    if (joined !== undefined) {
      if (force) {
        // refresh(): records no hit or miss; a queued key then skips the store read, so its callers were misses.
        if (!joined.flying && !joined.force) {
          joined.force = true
          this.recordMisses(joined.calls)
        }
      } else if (joined.flying || joined.force) this.metrics?.recordMiss(this.name)
      else joined.calls++
      return joined.promise
    }
    const waiter = new Waiter(id, key)
    waiter.force = force
    if (force) waiter.calls = 0
    this.pending.set(key, waiter)
    if (this.queue.length === 0) this.queueThis = thisArg
    this.queue.push(waiter)
    if (!this.scheduled) {
      this.scheduled = true
      // Not unref'ed: callers are waiting for this batch.
      if (this.windowMs === 0) setImmediate(() => this.dispatch())
      else setTimeout(() => this.dispatch(), this.windowMs)
    }
    return waiter.promise
  }

  private dispatch(): void {
    const batch = this.queue
    const thisArg = this.queueThis
    this.queue = []
    this.queueThis = undefined
    this.scheduled = false
    for (const w of batch) w.flying = true
    // Everything that can fail is caught inside and settles the waiters; nothing can reject here.
    void this.run(batch, thisArg)
  }

  private async run(batch: Waiter[], thisArg: unknown): Promise<void> {
    let misses = batch
    if (this.ttl > 0) {
      const readable = batch.filter((w) => !w.force)
      misses = batch.filter((w) => w.force)
      if (readable.length > 0) misses.push(...(await this.read(readable)))
    } else {
      for (const w of batch) this.recordMisses(w.calls)
    }
    const calls: Promise<void>[] = []
    for (let start = 0; start < misses.length; start += this.maxBatchSize) {
      calls.push(this.loadChunk(misses.slice(start, start + this.maxBatchSize), thisArg))
    }
    await Promise.all(calls)
  }

  /** One `getMany` for the window: settles the hits, returns the misses. */
  private async read(readable: Waiter[]): Promise<Waiter[]> {
    let found: Map<string, unknown>
    try {
      const got = this.mem !== undefined ? this.readMemory(this.mem, readable) : this.store.getMany(readable.map((w) => w.key))
      found = isThenable(got) ? await got : got
    } catch (error) {
      // The store raised (its onError says so): the callers of this window get its error.
      for (const w of readable) this.settle(w, error, true)
      return []
    }
    const misses: Waiter[] = []
    for (const w of readable) {
      const value = found.get(w.key)
      if (value !== undefined) {
        if (this.metrics !== undefined) for (let i = 0; i < w.calls; i++) this.metrics.recordHit(this.name, false)
        this.settle(w, value, false)
      } else {
        this.recordMisses(w.calls)
        misses.push(w)
      }
    }
    return misses
  }

  /** The fresh values among `readable`, with the same freshness test as the hit path (fresh while `now < freshUntil`). */
  private readMemory(mem: InMemCache, readable: Waiter[]): Map<string, unknown> {
    const found = new Map<string, unknown>()
    const now = clockNow()
    for (const w of readable) {
      const rec = mem.record(w.key, now)
      if (rec !== undefined && now < rec.createdAt + rec.ttl) found.set(w.key, rec.value)
    }
    return found
  }

  private recordMisses(calls: number): void {
    if (this.metrics !== undefined) for (let i = 0; i < calls; i++) this.metrics.recordMiss(this.name)
  }

  /** One call of the batch function for `chunk`; its outcome reaches every caller of the chunk. */
  private async loadChunk(chunk: Waiter[], thisArg: unknown): Promise<void> {
    const ids = chunk.map((w) => w.id)
    const t0 = this.metrics === undefined ? 0 : performance.now()
    let values: unknown[]
    try {
      const result = await this.fn.call(thisArg, ids)
      this.metrics?.recordLatency(this.name, 'load', (performance.now() - t0) / 1000)
      values = this.valuesOf(result, ids)
    } catch (error) {
      this.metrics?.recordError(this.name, 'load', errorTypeOf(error))
      for (const w of chunk) this.settle(w, error, true)
      return
    }
    if (this.ttl > 0) {
      const items = new Map<string, unknown>()
      chunk.forEach((w, i) => {
        const value = values[i]
        if (!w.cancelled && value !== undefined && (value !== null || this.cacheNull)) items.set(w.key, value)
      })
      if (items.size > 0) {
        try {
          const written = this.store.setMany(items, this.ttl)
          if (isThenable(written)) await written
          if (this.metrics !== undefined) for (let i = 0; i < items.size; i++) this.metrics.recordSet(this.name)
        } catch (error) {
          // As with cache(): a store that raises on writes hands its error to the callers.
          for (const w of chunk) this.settle(w, error, true)
          return
        }
      }
    }
    chunk.forEach((w, i) => this.settle(w, values[i], false))
  }

  /** The batch function's result as one value per id, or a TypeError for a result of the wrong shape. */
  private valuesOf(result: unknown, ids: unknown[]): unknown[] {
    if (result instanceof Map) return ids.map((id) => result.get(id))
    if (Array.isArray(result)) {
      if (result.length !== ids.length) {
        throw new TypeError(
          `batch function "${this.name}" returned an array of ${result.length} values for ${ids.length} ids; ` +
            'return one value per id, in order (undefined for an id not found), or a Map from id to value',
        )
      }
      return result
    }
    throw new TypeError(`batch function "${this.name}" must return (a promise of) a Map or an array, got ${result === null ? 'null' : typeof result}`)
  }

  private settle(w: Waiter, outcome: unknown, failed: boolean): void {
    if (this.pending.get(w.key) === w) this.pending.delete(w.key)
    if (failed) w.reject(outcome)
    else w.resolve(outcome)
  }

  invalidate(id: unknown): MaybePromise<void> {
    const key = this.keyOne(id)
    const w = this.pending.get(key)
    if (w !== undefined && w.flying) {
      // Its value may predate the invalidation: it reaches its callers but is not written, and
      // later calls start a new load instead of joining it. A queued key has read nothing yet.
      w.cancelled = true
      this.pending.delete(key)
    }
    this.metrics?.recordDelete(this.name)
    return this.store.delete(key)
  }

  clear(): MaybePromise<void> {
    for (const [key, w] of this.pending) {
      if (!w.flying) continue
      w.cancelled = true
      this.pending.delete(key)
    }
    return this.store.clear()
  }

  peek(id: unknown): MaybePromise<unknown> {
    if (this.ttl <= 0) return undefined
    // Entries are written with a physical TTL equal to their fresh TTL: present means fresh.
    return this.store.get(this.keyOne(id))
  }
}

/**
 * Wraps a batch function for `cache(ttl, { batch, … })`. Called by `cache()` when `batch` is set.
 * @internal
 */
export function decorateBatch(settings: CacheSettings, fn: unknown, contextName?: string): Batched<unknown, unknown> {
  if (typeof fn !== 'function') throw new TypeError(`cache(): expected a batch function to wrap, got ${typeof fn}`)
  const options = settings.options as Record<string, unknown>
  for (const option of Object.keys(options)) {
    if (options[option] !== undefined && !BATCH_COMPATIBLE.has(option)) {
      throw new TypeError(`cache(): option "${option}" cannot be combined with "batch" (supported with it: ${[...BATCH_COMPATIBLE].join(', ')})`)
    }
  }
  const { windowMs, maxBatchSize } = checkBatchOptions(options.batch)
  const store = options.store === undefined ? new InMemCache() : resolveStore(options.store, 'store')
  if (options.name === undefined && options.key === undefined && options.store !== undefined && !contextName && !fn.name) {
    // Its default key would depend on registration order: two processes could read each other's entries.
    throw new TypeError('cache(): an anonymous batch function on a given store needs a "name" or a "key" option')
  }
  const name = (options.name as string | undefined) ?? (contextName || fn.name || `batch#${++batchCount}`)
  // Templates apply to the single id: `{}`/`{0}` is the id, `{name}`/`{a.b}` read properties of an
  // object id. A function of unknown parameters (a bound one) gives exactly that reading.
  const keyOf: KeyBuilder = compileKey(options.key as Parameters<typeof compileKey>[0], function (_id: unknown) {}.bind(null), name)
  const keyOne = keyOf.unary ?? keyOf.one ?? ((id: unknown) => keyOf([id]))
  const engine = new BatchEngine(
    fn as (ids: unknown[]) => unknown,
    name,
    settings.ttl,
    store,
    keyOne,
    settings.metrics,
    options.cacheNull === true,
    windowMs,
    maxBatchSize,
  )
  const batched = function (this: unknown, id: unknown): Promise<unknown> {
    return engine.call(this, id)
  }
  const members: BatchedMembers<unknown, unknown> = {
    many(ids) {
      if (!Array.isArray(ids)) return Promise.reject(new TypeError(`${name}.many(): expected an array of ids`))
      return Promise.all(ids.map((id) => engine.call(undefined, id)))
    },
    invalidate: (id) => engine.invalidate(id),
    clear: () => engine.clear(),
    refresh(id) {
      let key: string
      try {
        key = keyOne(id)
      } catch (error) {
        return Promise.reject(error)
      }
      return engine.enqueue(undefined, id, key, true)
    },
    peek: (id) => engine.peek(id),
    key: (id) => keyOne(id),
    store,
  }
  Object.defineProperties(batched, {
    name: { value: fn.name, configurable: true },
    length: { value: 1, configurable: true },
  })
  return Object.assign(batched, members) as Batched<unknown, unknown>
}
