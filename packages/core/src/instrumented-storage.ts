import { errorTypeOf } from './error-reporting.js'
import { missingMetricsMethods } from './metrics.js'
import { STORAGE_METHODS } from './store-resolution.js'
import type { CacheEntry, CacheStorage, MaybePromise, MetricsCollector } from './types.js'

/** Names never forwarded from the inner store (forwarding `then` would make the wrapper a thenable). */
const NOT_FORWARDED = new Set(['constructor', 'then', 'inner', 'metrics', 'name'])

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    x !== null &&
    (typeof x === 'object' || typeof x === 'function') &&
    typeof (x as { then?: unknown }).then === 'function'
  )
}

function describe(x: unknown): string {
  return x === null ? 'null' : typeof x
}

/**
 * Wraps any {@link CacheStorage} and reports each operation to a {@link MetricsCollector}:
 * latency per operation (seconds, from `performance.now()`), hits and misses on `get`,
 * `getEntry` and `getMany` (per key), sets on `set`, `setEntry`, `setMany` (per item) and a
 * successful `setIfNotExists`, deletes on `delete`, and errors (by class name, as the engine labels
 * them) — the error is then rethrown unchanged. Counts are recorded only for operations that succeed; latency for all.
 *
 * A synchronous store stays synchronous (no promise is introduced); for an async store the
 * wrapper returns a promise that settles like the inner one. A `getEntry` hit whose `freshUntil`
 * has passed is reported as a stale hit.
 *
 * Other methods of the inner store (`cleanupExpired()`, `memoryUsage()`, …) are forwarded at
 * runtime, uninstrumented, for duck-typed callers; call them in typed code through `inner`, the
 * wrapped store.
 *
 * Do not also pass the same collector to `cache()` for the same name unless you want the engine's
 * and the store's hits counted together.
 *
 * @example
 * ```ts
 * const metrics = new InMemoryMetrics()
 * const store = new InstrumentedStorage(new RedisCache(client), metrics, 'redis')
 * await store.get('user:1')
 * metrics.getStats().latency['redis.get'].count // 1
 * ```
 */
export class InstrumentedStorage<S extends CacheStorage = CacheStorage> implements CacheStorage {
  /** The wrapped store. */
  readonly inner: S
  readonly metrics: MetricsCollector
  /** The cache name metrics are reported under. */
  readonly name: string

  constructor(store: S, metrics: MetricsCollector, name: string) {
    if (store === null || typeof store !== 'object') {
      throw new TypeError(`InstrumentedStorage: store must be a CacheStorage object, got ${describe(store)}`)
    }
    const missingStore = STORAGE_METHODS.filter((method) => typeof store[method] !== 'function')
    if (missingStore.length > 0) {
      throw new TypeError(`InstrumentedStorage: store is not a CacheStorage; missing method(s): ${missingStore.join(', ')}`)
    }
    if (metrics === null || typeof metrics !== 'object') {
      throw new TypeError(`InstrumentedStorage: metrics must be a MetricsCollector object, got ${describe(metrics)}`)
    }
    const missingMetrics = missingMetricsMethods(metrics)
    if (missingMetrics.length > 0) {
      throw new TypeError(`InstrumentedStorage: metrics is not a MetricsCollector; missing method(s): ${missingMetrics.join(', ')}`)
    }
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(`InstrumentedStorage: name must be a non-empty string, got ${typeof name === 'string' ? 'an empty string' : describe(name)}`)
    }
    this.inner = store
    this.metrics = metrics
    this.name = name
    this.forwardExtraMethods(store)
  }

  /** Expose the inner store's other methods, so duck-typed callers (`typeof s.cleanupExpired`) still find them. */
  private forwardExtraMethods(store: S): void {
    const seen = new Set<string>()
    for (let o: object | null = store; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
      for (const key of Object.getOwnPropertyNames(o)) {
        if (seen.has(key) || NOT_FORWARDED.has(key) || key.startsWith('_') || key in this) continue
        seen.add(key)
        // Read the descriptor, not the property: a getter must not run here.
        const descriptor = Object.getOwnPropertyDescriptor(o, key)
        if (typeof descriptor?.value !== 'function') continue
        Object.defineProperty(this, key, {
          configurable: true,
          enumerable: false,
          writable: true,
          value: (...args: unknown[]) => (store as unknown as Record<string, (...a: unknown[]) => unknown>)[key](...args),
        })
      }
    }
  }

  /**
   * Run `call`, time it, and hand the result to `onSuccess` (for counts) — synchronously when the
   * inner store answered synchronously. Errors are recorded and rethrown unchanged.
   */
  private instrument<T>(operation: string, call: () => MaybePromise<T>, onSuccess?: (result: T) => void): MaybePromise<T> {
    const start = performance.now()
    let result: MaybePromise<T>
    try {
      result = call()
    } catch (error) {
      this.recordFailure(operation, start, error)
      throw error
    }
    if (isThenable(result)) {
      // Promise.resolve returns a native promise as is, and adopts a foreign thenable.
      return Promise.resolve(result).then(
        (value) => {
          this.recordSuccess(operation, start, value, onSuccess)
          return value
        },
        (error: unknown) => {
          this.recordFailure(operation, start, error)
          throw error
        },
      )
    }
    this.recordSuccess(operation, start, result, onSuccess)
    return result
  }

  // A broken metrics exporter must not turn a store operation into a failure (nor mask its error).
  private recordSuccess<T>(operation: string, start: number, value: T, onSuccess?: (result: T) => void): void {
    try {
      this.metrics.recordLatency(this.name, operation, (performance.now() - start) / 1000)
      onSuccess?.(value)
    } catch {
      // Deliberately ignored, as the engine's reportError does.
    }
  }

  private recordFailure(operation: string, start: number, error: unknown): void {
    try {
      this.metrics.recordLatency(this.name, operation, (performance.now() - start) / 1000)
      this.metrics.recordError(this.name, operation, errorTypeOf(error))
    } catch {
      // Deliberately ignored: the store's own error is what the caller must see.
    }
  }

  /** @example `store.get('user:1')` — a hit when the value is not `undefined`. */
  get(key: string): MaybePromise<unknown | undefined> {
    return this.instrument('get', () => this.inner.get(key), (value) => {
      if (value === undefined) this.metrics.recordMiss(this.name)
      else this.metrics.recordHit(this.name)
    })
  }

  /** @example `store.set('user:1', user, 60)` — one set. */
  set(key: string, value: unknown, ttl: number): MaybePromise<void> {
    return this.instrument('set', () => this.inner.set(key, value, ttl), () => this.metrics.recordSet(this.name))
  }

  /** @example `store.delete('user:1')` — one delete. */
  delete(key: string): MaybePromise<void> {
    return this.instrument('delete', () => this.inner.delete(key), () => this.metrics.recordDelete(this.name))
  }

  /** @example `store.exists('user:1')` — latency only. */
  exists(key: string): MaybePromise<boolean> {
    return this.instrument('exists', () => this.inner.exists(key))
  }

  /** @example `store.getEntry('user:1')` — a hit (stale when `freshUntil` has passed) or a miss. */
  getEntry(key: string): MaybePromise<CacheEntry | undefined> {
    return this.instrument('getEntry', () => this.inner.getEntry(key), (entry) => {
      if (entry === undefined) this.metrics.recordMiss(this.name)
      else this.metrics.recordHit(this.name, Date.now() / 1000 >= entry.freshUntil)
    })
  }

  /** @example `store.setEntry('user:1', { value, freshUntil, createdAt })` — one set. */
  setEntry(key: string, entry: CacheEntry, ttl?: number): MaybePromise<void> {
    // Forward the exact arity: a store may tell "ttl omitted" from "ttl: undefined" by arguments.length.
    const call = ttl === undefined && arguments.length < 3 ? () => this.inner.setEntry(key, entry) : () => this.inner.setEntry(key, entry, ttl)
    return this.instrument('setEntry', call, () => this.metrics.recordSet(this.name))
  }

  /** @example `await store.setIfNotExists('lock:1', 1, 10)` — a set only when it stored. */
  setIfNotExists(key: string, value: unknown, ttl: number): MaybePromise<boolean> {
    return this.instrument('setIfNotExists', () => this.inner.setIfNotExists(key, value, ttl), (stored) => {
      if (stored) this.metrics.recordSet(this.name)
    })
  }

  /** @example `store.getMany(['a', 'b'])` — a hit per key found, a miss per key not found. */
  getMany(keys: string[]): MaybePromise<Map<string, unknown>> {
    return this.instrument('getMany', () => this.inner.getMany(keys), (found) => {
      for (const key of keys) {
        if (found.has(key)) this.metrics.recordHit(this.name)
        else this.metrics.recordMiss(this.name)
      }
    })
  }

  /** @example `store.setMany({ a: 1, b: 2 }, 60)` — a set per item. */
  setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): MaybePromise<void> {
    // Counted before the call: the inner store may consume or mutate the collection.
    const count = items instanceof Map ? items.size : Object.keys(items).length
    return this.instrument('setMany', () => this.inner.setMany(items, ttl), () => {
      for (let i = 0; i < count; i++) this.metrics.recordSet(this.name)
    })
  }

  /** @example `store.clear()` — latency only. */
  clear(): MaybePromise<void> {
    return this.instrument('clear', () => this.inner.clear())
  }
}
