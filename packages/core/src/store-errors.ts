import { checkLogger, errorTypeOf, type Logger } from './error-reporting.js'
import type { SerializerAlias } from './serializers.js'
import type { ErrorHandler, ErrorInfo, MetricsCollector, Serializer } from './types.js'

/**
 * What a remote store does with its own failures (a dead or hung server, a corrupt entry):
 * - `'silent'` (the default): report the failure and degrade — a failed read is a miss, a failed
 *   write is skipped — so the caller never sees it;
 * - `'raise'`: report it and rethrow it to the caller;
 * - a callback `(error, info) => void`: silent, and the callback receives each failure.
 */
export type StoreErrorMode = 'silent' | 'raise' | ErrorHandler

/** Options of {@link StoreErrorPolicy}. */
export interface StoreErrorPolicyOptions {
  /** See {@link StoreErrorMode}. Default `'silent'`. */
  onError?: StoreErrorMode
  /** Counts failures as `recordError(name, operation, errorType)`. */
  metrics?: MetricsCollector
  /** Where warnings go when `onError` is not a callback. Default `console`; `null` silences them. */
  logger?: Logger | null
}

/**
 * The options every remote store shares (`LocalFileCache`, `RedisCache`, `S3Cache`, `GCSCache`):
 * how failures are handled, how values are serialized, and the store's name in reports.
 *
 * @example
 * ```ts
 * interface MyStoreOptions extends RemoteStoreOptions {
 *   url: string
 * }
 * ```
 */
export interface RemoteStoreOptions extends StoreErrorPolicyOptions {
  /** `'json'` (default), `'v8'`, or any `{ dumps, loads }` (e.g. `msgpack` from `@acache/msgpack`). */
  serializer?: SerializerAlias | Serializer
  /** The store's name in error reports and metrics. Default: its class name (`'RedisCache'`, `'S3Cache'`…). */
  name?: string
}

/** A repeated failure of one operation is logged at most once per this many milliseconds. */
const WARN_INTERVAL_MS = 60_000

/**
 * How a remote store (Redis, files, S3, GCS…) reports its failures and decides whether they reach
 * the caller. One instance per store; adapters call {@link StoreErrorPolicy.fail} in their `catch`.
 *
 * @example
 * ```ts
 * class MyStore implements CacheStorage {
 *   private readonly errors: StoreErrorPolicy
 *   constructor(options: { onError?: StoreErrorMode } = {}) {
 *     this.errors = new StoreErrorPolicy('MyStore', options)
 *   }
 *   async get(key: string) {
 *     try {
 *       return await this.fetch(key)
 *     } catch (error) {
 *       return this.errors.fail(error, 'get', key, undefined) // a miss, or a rethrow with 'raise'
 *     }
 *   }
 * }
 * ```
 */
export class StoreErrorPolicy {
  /** True with `onError: 'raise'`. */
  readonly raise: boolean
  private readonly handler: ErrorHandler | undefined
  private readonly metrics: MetricsCollector | undefined
  private readonly logger: Logger | null
  private readonly lastWarned = new Map<string, number>()

  /** @param name the store's name in reports and metrics (`'RedisCache'`, or a user-given name). */
  constructor(
    readonly name: string,
    options: StoreErrorPolicyOptions = {},
  ) {
    const { onError = 'silent' } = options
    if (onError !== 'silent' && onError !== 'raise' && typeof onError !== 'function') {
      throw new TypeError(`${name}: option "onError" must be 'silent', 'raise' or a function (error, info) => void`)
    }
    this.raise = onError === 'raise'
    this.handler = typeof onError === 'function' ? onError : undefined
    this.metrics = options.metrics
    this.logger = checkLogger(name, options.logger)
  }

  /**
   * Reports `error`, then rethrows it with `'raise'`, else returns `fallback` (the degraded answer:
   * `undefined` for a read, `false` for `exists`, nothing for a write).
   */
  fail<T>(error: unknown, operation: string, key: string | undefined, fallback: T): T {
    this.report(error, operation, key)
    if (this.raise) throw error
    return fallback
  }

  /** Reports `error` without deciding anything (background work, client `error` events). Never throws. */
  report(error: unknown, operation: string, key?: string): void {
    try {
      this.metrics?.recordError(this.name, operation, errorTypeOf(error))
    } catch {
      // A broken metrics exporter must not turn a degraded answer into a thrown error.
    }
    const info: ErrorInfo = { cacheName: this.name, key: key ?? '', operation }
    if (this.handler !== undefined) {
      try {
        this.handler(error, info)
      } catch (handlerError) {
        this.logger?.warn(`acache: onError of ${this.name} threw while handling a ${operation} failure`, handlerError)
      }
      return
    }
    if (this.raise || this.logger === null) return // the caller sees it / warnings are off
    // A server that is down fails every call: one warning per operation per minute is enough.
    const now = Date.now()
    const last = this.lastWarned.get(operation)
    if (last !== undefined && now - last < WARN_INTERVAL_MS) return
    this.lastWarned.set(operation, now)
    this.logger.warn(`acache: ${this.name} ${operation} failed${key ? ` (key ${JSON.stringify(key)})` : ''}; degrading`, error)
  }
}
