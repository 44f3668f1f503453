import { checkOptionKeys, type MetricsCollector } from '@acache/core'
import {
  metrics as otelMetrics,
  type Attributes,
  type BatchObservableCallback,
  type Counter,
  type Histogram,
  type Meter,
  type ObservableGauge,
} from '@opentelemetry/api'

/** This package's version, reported as the default meter's version. */
export const VERSION = '0.1.0'

/** The default meter name (the instrumentation scope). */
export const DEFAULT_METER_NAME = '@acache/opentelemetry'

/**
 * Default bucket boundaries of `cache.operation.duration`, in seconds (100 µs to 10 s): the SDK's
 * own defaults (0, 5, 10, 25 … 10000) are meant for milliseconds and would put every cache
 * operation in one bucket.
 */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
])

/** Options of {@link OpenTelemetryMetrics}. */
export interface OpenTelemetryMetricsOptions {
  /** The meter to create the instruments on. Default: `metrics.getMeter(meterName, meterVersion)` from the global provider. */
  meter?: Meter
  /** Name of the default meter. Default `'@acache/opentelemetry'`. Not allowed together with `meter`. */
  meterName?: string
  /** Version of the default meter. Default: this package's version. Not allowed together with `meter`. */
  meterVersion?: string
  /**
   * Bucket boundaries (seconds) advised for `cache.operation.duration`, strictly increasing.
   * Default {@link DEFAULT_DURATION_BUCKETS}. A View configured on the MeterProvider wins over it.
   */
  buckets?: readonly number[]
}

const OPTIONS = ['meter', 'meterName', 'meterVersion', 'buckets'] as const
const WHERE = 'OpenTelemetryMetrics'
const METER_METHODS = [
  'createCounter',
  'createHistogram',
  'createObservableGauge',
  'addBatchObservableCallback',
  'removeBatchObservableCallback',
] as const

/** Attribute sets of one cache name, built once: the hot path allocates nothing. */
interface CacheAttributes {
  name: Attributes
  refreshSuccess: Attributes
  refreshFailure: Attributes
  /** Per operation. */
  operations: Map<string, Attributes>
}

/**
 * A {@link MetricsCollector} that records through the OpenTelemetry metrics API. Give it to
 * `cache()`, `bg()` or `InstrumentedStorage`; the MeterProvider you configure (OTLP, Prometheus
 * exporter, …) decides where the data goes.
 *
 * Instruments: counters `cache.hits` (stale hits included), `cache.misses`, `cache.stale_hits`,
 * `cache.sets`, `cache.deletes`, `cache.errors` (`cache.operation`, `error.type`),
 * `cache.background_refresh` (`status`: `success` | `failure`); the histogram
 * `cache.operation.duration` (unit `s`, `cache.operation`); observable gauges `cache.memory.usage`
 * (unit `By`) and `cache.entries`, the latest report per cache. Every data point carries
 * `cache.name`, never a key.
 *
 * @example
 * ```ts
 * import { cache } from '@acache/core'
 * import { OpenTelemetryMetrics } from '@acache/opentelemetry'
 *
 * const metrics = new OpenTelemetryMetrics() // the global MeterProvider's meter '@acache/opentelemetry'
 * const getUser = cache(60, { metrics, name: 'users' })(fetchUser)
 * ```
 */
export class OpenTelemetryMetrics implements MetricsCollector {
  /** The meter the instruments were created on. */
  readonly meter: Meter
  private readonly hits: Counter
  private readonly misses: Counter
  private readonly staleHits: Counter
  private readonly sets: Counter
  private readonly deletes: Counter
  private readonly errors: Counter
  private readonly backgroundRefresh: Counter
  private readonly duration: Histogram
  private readonly memoryUsage: ObservableGauge
  private readonly entries: ObservableGauge
  private readonly attributes = new Map<string, CacheAttributes>()
  /** The latest memory report per cache name, read by the gauges' callback at collection time. */
  private readonly memory = new Map<string, { bytes: number | undefined; entries: number | undefined }>()
  private readonly observeGauges: BatchObservableCallback
  private closed = false

  constructor(options: OpenTelemetryMetricsOptions = {}) {
    checkOptionKeys(WHERE, options, OPTIONS)
    const { meter, meterName, meterVersion, buckets = DEFAULT_DURATION_BUCKETS } = options
    if (meter !== undefined) {
      if (meterName !== undefined || meterVersion !== undefined) {
        throw new TypeError(`${WHERE}: give either option "meter" or options "meterName"/"meterVersion", not both`)
      }
      const missing = METER_METHODS.filter((m) => typeof (meter as unknown as Record<string, unknown>)?.[m] !== 'function')
      if (missing.length > 0) {
        throw new TypeError(`${WHERE}: option "meter" must be an OpenTelemetry Meter (missing ${missing.join(', ')})`)
      }
    }
    checkNonEmptyString('meterName', meterName)
    checkNonEmptyString('meterVersion', meterVersion)
    checkBuckets(buckets)
    this.meter = meter ?? otelMetrics.getMeter(meterName ?? DEFAULT_METER_NAME, meterVersion ?? VERSION)

    const counter = (name: string, description: string, unit: string) => this.meter.createCounter(name, { description, unit })
    this.hits = counter('cache.hits', 'Cache hits, stale hits included.', '{hit}')
    this.misses = counter('cache.misses', 'Cache misses (absent or expired entries).', '{miss}')
    this.staleHits = counter('cache.stale_hits', 'Hits that served a stale value while it was refreshed.', '{hit}')
    this.sets = counter('cache.sets', 'Values written to the cache.', '{write}')
    this.deletes = counter('cache.deletes', 'Entries invalidated.', '{delete}')
    this.errors = counter('cache.errors', 'Failed cache operations, by operation and error class.', '{error}')
    this.backgroundRefresh = counter('cache.background_refresh', 'Background refreshes, by outcome (status).', '{refresh}')
    this.duration = this.meter.createHistogram('cache.operation.duration', {
      description: 'Duration of cache operations (load, get, set, …).',
      unit: 's',
      advice: { explicitBucketBoundaries: [...buckets] },
    })
    this.memoryUsage = this.meter.createObservableGauge('cache.memory.usage', {
      description: 'Estimated bytes held by an in-memory cache (latest report).',
      unit: 'By',
    })
    this.entries = this.meter.createObservableGauge('cache.entries', {
      description: 'Entries held by an in-memory cache (latest report).',
      unit: '{entry}',
    })
    this.observeGauges = (result) => {
      for (const [name, report] of this.memory) {
        const attributes = this.of(name).name
        if (report.bytes !== undefined) result.observe(this.memoryUsage, report.bytes, attributes)
        if (report.entries !== undefined) result.observe(this.entries, report.entries, attributes)
      }
    }
    this.meter.addBatchObservableCallback(this.observeGauges, [this.memoryUsage, this.entries])
  }

  private of(cacheName: string): CacheAttributes {
    let a = this.attributes.get(cacheName)
    if (a === undefined) {
      a = {
        name: { 'cache.name': cacheName },
        refreshSuccess: { 'cache.name': cacheName, status: 'success' },
        refreshFailure: { 'cache.name': cacheName, status: 'failure' },
        operations: new Map(),
      }
      this.attributes.set(cacheName, a)
    }
    return a
  }

  /** A hit; a `stale` one also counts in `cache.stale_hits`. */
  recordHit(cacheName: string, stale?: boolean): void {
    const attributes = this.of(cacheName).name
    this.hits.add(1, attributes)
    if (stale === true) this.staleHits.add(1, attributes)
  }

  recordMiss(cacheName: string): void {
    this.misses.add(1, this.of(cacheName).name)
  }

  recordSet(cacheName: string): void {
    this.sets.add(1, this.of(cacheName).name)
  }

  recordDelete(cacheName: string): void {
    this.deletes.add(1, this.of(cacheName).name)
  }

  /** Negative, NaN or infinite durations are ignored. */
  recordLatency(cacheName: string, operation: string, seconds: number): void {
    if (!(seconds >= 0 && seconds < Infinity)) return
    const operations = this.of(cacheName).operations
    let attributes = operations.get(operation)
    if (attributes === undefined) {
      attributes = { 'cache.name': cacheName, 'cache.operation': operation }
      operations.set(operation, attributes)
    }
    this.duration.record(seconds, attributes)
  }

  recordError(cacheName: string, operation: string, errorType: string): void {
    this.errors.add(1, { 'cache.name': cacheName, 'cache.operation': operation, 'error.type': errorType })
  }

  /** Keeps the latest report; the gauges read it when the SDK collects. Negative, NaN or infinite values are ignored. */
  recordMemoryUsage(cacheName: string, bytes: number, entries: number): void {
    let report = this.memory.get(cacheName)
    if (report === undefined) {
      report = { bytes: undefined, entries: undefined }
      this.memory.set(cacheName, report)
    }
    if (bytes >= 0 && bytes < Infinity) report.bytes = bytes
    if (entries >= 0 && entries < Infinity) report.entries = entries
  }

  recordBackgroundRefresh(cacheName: string, success: boolean): void {
    const a = this.of(cacheName)
    this.backgroundRefresh.add(1, success ? a.refreshSuccess : a.refreshFailure)
  }

  /**
   * Detaches the gauges' callback from the meter (a collector that is thrown away must not keep
   * reporting its last memory figures). The counters and the histogram keep working. Idempotent.
   *
   * @example
   * ```ts
   * const metrics = new OpenTelemetryMetrics({ meter })
   * // … on shutdown
   * metrics.close()
   * ```
   */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.meter.removeBatchObservableCallback(this.observeGauges, [this.memoryUsage, this.entries])
  }
}

function checkNonEmptyString(option: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw new TypeError(`${WHERE}: option "${option}" must be a non-empty string`)
  }
}

function checkBuckets(buckets: unknown): void {
  const ok =
    Array.isArray(buckets) &&
    buckets.length > 0 &&
    buckets.every((b, i) => typeof b === 'number' && b > 0 && Number.isFinite(b) && (i === 0 || b > buckets[i - 1]))
  if (!ok) {
    throw new TypeError(`${WHERE}: option "buckets" must be a non-empty array of strictly increasing positive finite numbers (seconds)`)
  }
}
