import { checkOptionKeys, type MetricsCollector } from '@acache/core'
import { Counter, Gauge, Histogram, register as globalRegistry, type Registry } from 'prom-client'

/** Options of {@link PrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** First part of every metric name (`<namespace>_<subsystem>_hits_total`), e.g. `'myapp'`. Required. */
  namespace: string
  /** Second part of every metric name, e.g. `'cache'`. Required. */
  subsystem: string
  /** Where the metrics are registered. Default: prom-client's global `register`. */
  registry?: Registry
  /**
   * Upper bounds (seconds) of the `…_operation_duration_seconds` buckets, strictly increasing.
   * Default {@link DEFAULT_LATENCY_BUCKETS} (100 µs to 10 s).
   */
  buckets?: readonly number[]
}

/**
 * Default latency buckets, in seconds: an in-memory hit is microseconds, a remote store a few
 * milliseconds, a loader up to seconds.
 */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
])

const OPTIONS = ['namespace', 'subsystem', 'registry', 'buckets'] as const
/** A Prometheus name part: no colons (reserved for recording rules), no leading digit. */
const NAME_PART = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const WHERE = 'PrometheusMetrics'

type CounterChild = { inc(value?: number): void }
type GaugeChild = { set(value: number): void }
type HistogramChild = { observe(value: number): void }

/** The labelled children of one cache name: `metric.labels(…)` allocates, so it runs once per name. */
interface CacheChildren {
  hits: CounterChild
  misses: CounterChild
  staleHits: CounterChild
  sets: CounterChild
  deletes: CounterChild
  /** Created on first use: most caches never see a background refresh. */
  refreshSuccess: CounterChild | undefined
  refreshFailure: CounterChild | undefined
  memoryBytes: GaugeChild | undefined
  entries: GaugeChild | undefined
  /** Per operation. */
  latency: Map<string, HistogramChild>
}

/**
 * A {@link MetricsCollector} that exports to Prometheus through prom-client. Give it to `cache()`,
 * `bg()` or `InstrumentedStorage` and serve `registry.metrics()` on `/metrics`.
 *
 * Metrics (`<ns>_<sub>_` prefix, label `cache_name` on all of them; never a key):
 * `hits_total` (stale hits included), `misses_total`, `stale_hits_total`, `sets_total`,
 * `deletes_total`, `errors_total{operation, error_type}`, `background_refresh_total{status}`
 * (`success` | `failure`), the histogram `operation_duration_seconds{operation}` and the gauges
 * `memory_bytes` and `entries` (latest report).
 *
 * Two collectors with the same names on one registry share the registered metrics (their counts
 * add up); a different metric already registered under one of the names is an `Error`.
 *
 * @example
 * ```ts
 * import { cache } from '@acache/core'
 * import { PrometheusMetrics } from '@acache/prometheus'
 *
 * const metrics = new PrometheusMetrics({ namespace: 'myapp', subsystem: 'cache' })
 * const getUser = cache(60, { metrics, name: 'users' })(fetchUser)
 * // GET /metrics → res.end(await metrics.registry.metrics())
 * ```
 */
export class PrometheusMetrics implements MetricsCollector {
  /** The registry the metrics live in (for a `/metrics` handler). */
  readonly registry: Registry
  private readonly hits: Counter<'cache_name'>
  private readonly misses: Counter<'cache_name'>
  private readonly staleHits: Counter<'cache_name'>
  private readonly sets: Counter<'cache_name'>
  private readonly deletes: Counter<'cache_name'>
  private readonly errors: Counter<'cache_name' | 'operation' | 'error_type'>
  private readonly backgroundRefresh: Counter<'cache_name' | 'status'>
  private readonly duration: Histogram<'cache_name' | 'operation'>
  private readonly memoryBytes: Gauge<'cache_name'>
  private readonly entries: Gauge<'cache_name'>
  private readonly children = new Map<string, CacheChildren>()

  constructor(options: PrometheusMetricsOptions) {
    if (options === undefined) throw new TypeError(`${WHERE}: options { namespace, subsystem } are required`)
    checkOptionKeys(WHERE, options, OPTIONS)
    const { namespace, subsystem, registry = globalRegistry, buckets = DEFAULT_LATENCY_BUCKETS } = options
    checkNamePart('namespace', namespace)
    checkNamePart('subsystem', subsystem)
    if (!isRegistry(registry)) {
      throw new TypeError(`${WHERE}: option "registry" must be a prom-client Registry`)
    }
    checkBuckets(buckets)
    this.registry = registry
    const prefix = `${namespace}_${subsystem}_`
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      reuseOrCreate(registry, prefix + name, 'counter', labelNames, undefined, () =>
        new Counter<L>({ name: prefix + name, help, labelNames, registers: [registry] }),
      )
    const gauge = (name: string, help: string) =>
      reuseOrCreate(registry, prefix + name, 'gauge', ['cache_name'], undefined, () =>
        new Gauge<'cache_name'>({ name: prefix + name, help, labelNames: ['cache_name'], registers: [registry] }),
      )

    this.hits = counter('hits_total', 'Cache hits, stale hits included.', ['cache_name'])
    this.misses = counter('misses_total', 'Cache misses (absent or expired entries).', ['cache_name'])
    this.staleHits = counter('stale_hits_total', 'Hits that served a stale value while it was refreshed.', ['cache_name'])
    this.sets = counter('sets_total', 'Values written to the cache.', ['cache_name'])
    this.deletes = counter('deletes_total', 'Entries invalidated.', ['cache_name'])
    this.errors = counter('errors_total', 'Failed cache operations, by operation and error class.', [
      'cache_name',
      'operation',
      'error_type',
    ])
    this.backgroundRefresh = counter('background_refresh_total', 'Background refreshes, by outcome (success or failure).', [
      'cache_name',
      'status',
    ])
    const durationName = `${prefix}operation_duration_seconds`
    this.duration = reuseOrCreate(registry, durationName, 'histogram', ['cache_name', 'operation'], buckets, () =>
      new Histogram<'cache_name' | 'operation'>({
        name: durationName,
        help: 'Duration of cache operations (load, get, set, …) in seconds.',
        labelNames: ['cache_name', 'operation'],
        buckets: [...buckets],
        registers: [registry],
      }),
    )
    this.memoryBytes = gauge('memory_bytes', 'Estimated bytes held by an in-memory cache (latest report).')
    this.entries = gauge('entries', 'Entries held by an in-memory cache (latest report).')
  }

  private of(cacheName: string): CacheChildren {
    let c = this.children.get(cacheName)
    if (c === undefined) {
      c = {
        hits: this.hits.labels(cacheName),
        misses: this.misses.labels(cacheName),
        staleHits: this.staleHits.labels(cacheName),
        sets: this.sets.labels(cacheName),
        deletes: this.deletes.labels(cacheName),
        refreshSuccess: undefined,
        refreshFailure: undefined,
        memoryBytes: undefined,
        entries: undefined,
        latency: new Map(),
      }
      this.children.set(cacheName, c)
    }
    return c
  }

  /** A hit; a `stale` one also counts in `stale_hits_total`. */
  recordHit(cacheName: string, stale?: boolean): void {
    const c = this.of(cacheName)
    c.hits.inc()
    if (stale === true) c.staleHits.inc()
  }

  recordMiss(cacheName: string): void {
    this.of(cacheName).misses.inc()
  }

  recordSet(cacheName: string): void {
    this.of(cacheName).sets.inc()
  }

  recordDelete(cacheName: string): void {
    this.of(cacheName).deletes.inc()
  }

  /** Negative, NaN or infinite durations are ignored (a clock quirk must not throw on the hot path). */
  recordLatency(cacheName: string, operation: string, seconds: number): void {
    if (!(seconds >= 0 && seconds < Infinity)) return
    const latency = this.of(cacheName).latency
    let child = latency.get(operation)
    if (child === undefined) {
      child = this.duration.labels(cacheName, operation)
      latency.set(operation, child)
    }
    child.observe(seconds)
  }

  /** Errors are rare: no child cache, the labels are passed each time. */
  recordError(cacheName: string, operation: string, errorType: string): void {
    this.errors.inc({ cache_name: cacheName, operation, error_type: errorType })
  }

  /** Sets both gauges to the latest report (they are replaced, not added). Negative, NaN or infinite values are ignored. */
  recordMemoryUsage(cacheName: string, bytes: number, entries: number): void {
    const c = this.of(cacheName)
    if (bytes >= 0 && bytes < Infinity) (c.memoryBytes ??= this.memoryBytes.labels(cacheName)).set(bytes)
    if (entries >= 0 && entries < Infinity) (c.entries ??= this.entries.labels(cacheName)).set(entries)
  }

  recordBackgroundRefresh(cacheName: string, success: boolean): void {
    const c = this.of(cacheName)
    if (success) (c.refreshSuccess ??= this.backgroundRefresh.labels(cacheName, 'success')).inc()
    else (c.refreshFailure ??= this.backgroundRefresh.labels(cacheName, 'failure')).inc()
  }
}

function checkNamePart(option: string, value: unknown): void {
  if (typeof value !== 'string' || !NAME_PART.test(value)) {
    throw new TypeError(
      `${WHERE}: option "${option}" must be a Prometheus name part (letters, digits and _, not starting with a digit), got ${
        typeof value === 'string' ? JSON.stringify(value) : String(value)
      }`,
    )
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

/** Duck-typed so that a registry from another copy of prom-client is accepted too. */
function isRegistry(x: unknown): x is Registry {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as Registry).metrics === 'function' &&
    typeof (x as Registry).getSingleMetric === 'function' &&
    typeof (x as Registry).registerMetric === 'function'
  )
}

/**
 * The metric registered under `name` when it has the expected shape (a second collector, or a
 * module loaded twice, reuses it instead of failing with prom-client's "already registered"), a
 * new one when the name is free, and a clear `Error` when something else holds the name.
 */
function reuseOrCreate<M>(
  registry: Registry,
  name: string,
  type: 'counter' | 'gauge' | 'histogram',
  labelNames: string[],
  buckets: readonly number[] | undefined,
  create: () => M,
): M {
  const existing = registry.getSingleMetric(name) as unknown as
    | { type?: string; labelNames?: string[]; upperBounds?: number[] }
    | undefined
  if (existing === undefined) return create()
  const sameLabels =
    Array.isArray(existing.labelNames) && [...existing.labelNames].sort().join(',') === [...labelNames].sort().join(',')
  const sameBuckets = buckets === undefined || (existing.upperBounds ?? []).join(',') === buckets.join(',')
  if (existing.type !== type || !sameLabels || !sameBuckets) {
    const shape = (t: unknown, labels: unknown, b: unknown) =>
      `a ${String(t)} with labels [${Array.isArray(labels) ? labels.join(', ') : ''}]${b === undefined ? '' : ` and buckets [${String(b)}]`}`
    throw new Error(
      `${WHERE}: the registry already holds a metric named "${name}" that is ${shape(existing.type, existing.labelNames, buckets === undefined ? undefined : existing.upperBounds)}, ` +
        `not ${shape(type, labelNames, buckets)}; use another namespace/subsystem or registry`,
    )
  }
  return existing as unknown as M
}
