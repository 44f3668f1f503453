import type { MetricsCollector } from './types.js'

function noop(): void {}

/**
 * The methods of the `MetricsCollector` protocol, for code that forwards or wraps every one of them.
 *
 * @example
 * ```ts
 * // a collector that forwards every call to several others
 * const fanOut = Object.fromEntries(
 *   METRICS_METHODS.map((m) => [m, (...args: unknown[]) => collectors.forEach((c) => (c[m] as Function)(...args))]),
 * ) as MetricsCollector
 * ```
 */
export const METRICS_METHODS = [
  'recordHit',
  'recordMiss',
  'recordSet',
  'recordDelete',
  'recordLatency',
  'recordError',
  'recordMemoryUsage',
  'recordBackgroundRefresh',
] as const satisfies ReadonlyArray<keyof MetricsCollector>

/** The `MetricsCollector` methods `x` lacks (all of them when `x` is not an object). */
export function missingMetricsMethods(x: unknown): string[] {
  if (x === null || typeof x !== 'object') return [...METRICS_METHODS]
  return METRICS_METHODS.filter((m) => typeof (x as Record<string, unknown>)[m] !== 'function')
}

/** Validates a `metrics` option: undefined, or a `MetricsCollector` (TypeError naming the option otherwise). */
export function checkMetricsOption(where: string, metrics: unknown): MetricsCollector | undefined {
  if (metrics === undefined) return undefined
  const missing = missingMetricsMethods(metrics)
  if (missing.length > 0) {
    throw new TypeError(`${where}: option "metrics" must be a MetricsCollector (missing ${missing.join(', ')})`)
  }
  return metrics as MetricsCollector
}

/**
 * A collector that records nothing. The engine compares `metrics === NULL_METRICS` and then skips
 * instrumentation altogether (no clock reads, no calls), so "no metrics" costs nothing on the hot
 * path. It is frozen so that identity check can be trusted.
 *
 * @example
 * ```ts
 * const getUser = cache(60, { metrics: NULL_METRICS })(fetchUser) // the default when no metrics are given
 * ```
 */
export const NULL_METRICS: MetricsCollector = Object.freeze({
  recordHit: noop,
  recordMiss: noop,
  recordSet: noop,
  recordDelete: noop,
  recordLatency: noop,
  recordError: noop,
  recordMemoryUsage: noop,
  recordBackgroundRefresh: noop,
})

/** Counters of one cache, as reported by {@link InMemoryMetrics.getStats}. */
export interface CacheCounterStats {
  /** All hits, stale ones included. */
  hits: number
  misses: number
  sets: number
  deletes: number
  /** `hits / (hits + misses) × 100`, rounded to 2 decimals; 0 with no traffic. */
  hitRatePercent: number
  /** Hits that served a stale value (SWR); also counted in `hits`. */
  staleHits: number
}

/** Latency of one `name.op`, in milliseconds. */
export interface LatencyStats {
  /** Every sample ever recorded (not only those in the window). */
  count: number
  /** Percentiles over the last `latencySamples` samples (nearest-rank). */
  p50Ms: number
  p95Ms: number
  p99Ms: number
  /** Mean over every sample ever recorded. */
  avgMs: number
}

/** Last reported memory use of one cache. */
export interface MemoryStats {
  bytes: number
  entries: number
  /** `bytes / 2^20`, rounded to 2 decimals. */
  mb: number
}

/** Background refresh outcomes of one cache. */
export interface BackgroundRefreshStats {
  success: number
  failure: number
}

/** What {@link InMemoryMetrics.getStats} returns (DESIGN §6). Plain, JSON-serializable objects. */
export interface MetricsStats {
  /** Seconds since the collector was created or last {@link InMemoryMetrics.reset | reset}. */
  uptimeSeconds: number
  caches: Record<string, CacheCounterStats>
  /** Keyed `'<cacheName>.<operation>'`. */
  latency: Record<string, LatencyStats>
  /** Keyed `'<cacheName>.<operation>'`, then by error type. */
  errors: Record<string, Record<string, number>>
  memory: Record<string, MemoryStats>
  backgroundRefresh: Record<string, BackgroundRefreshStats>
}

/** Options of {@link InMemoryMetrics}. */
export interface InMemoryMetricsOptions {
  /** Latency samples kept per `name.op` for percentiles (a ring buffer). Default 1000. */
  latencySamples?: number
}

interface CacheCounters {
  hits: number
  misses: number
  sets: number
  deletes: number
  staleHits: number
}

/** Smallest ring allocation: most `name.op`s see few samples, so grow on demand up to the limit. */
const INITIAL_RING_CAPACITY = 16

/** A bounded window of latency samples plus all-time count and sum. */
class LatencyWindow {
  samples: Float64Array
  /** Samples held (≤ capacity limit). */
  size = 0
  /** Where the next sample goes once the ring is full. */
  next = 0
  count = 0
  sumSeconds = 0

  constructor(private readonly limit: number) {
    this.samples = new Float64Array(Math.min(limit, INITIAL_RING_CAPACITY))
  }

  add(seconds: number): void {
    this.count++
    this.sumSeconds += seconds
    if (this.size < this.limit) {
      if (this.size === this.samples.length) {
        const grown = new Float64Array(Math.min(this.limit, this.samples.length * 2))
        grown.set(this.samples)
        this.samples = grown
      }
      this.samples[this.size++] = seconds
      return
    }
    this.samples[this.next] = seconds
    this.next = (this.next + 1) % this.limit
  }

  stats(): LatencyStats {
    const sorted = this.samples.slice(0, this.size).sort()
    return {
      count: this.count,
      p50Ms: percentile(sorted, 50) * 1000,
      p95Ms: percentile(sorted, 95) * 1000,
      p99Ms: percentile(sorted, 99) * 1000,
      avgMs: this.count === 0 ? 0 : (this.sumSeconds / this.count) * 1000,
    }
  }
}

/** Nearest-rank percentile: the smallest sample with at least p% of samples at or below it. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.max(0, rank - 1)]
}

function round2(x: number): number {
  return Math.round(x * 100) / 100
}

/**
 * A {@link MetricsCollector} that keeps everything in process memory, for tests, debugging
 * endpoints and small services. Latency percentiles are computed over a bounded ring buffer of the
 * last `latencySamples` samples per `name.op`; counts and averages cover all samples. Memory is
 * bounded by the number of distinct cache names, operations and error types (never keys).
 *
 * Latency samples that are negative, NaN or infinite are ignored (a clock quirk must not poison
 * the averages).
 *
 * @example
 * ```ts
 * const metrics = new InMemoryMetrics()
 * const getUser = cache(60, { metrics, name: 'users' })(fetchUser)
 * await getUser(1); await getUser(1)
 * metrics.getStats().caches.users // { hits: 1, misses: 1, sets: 1, deletes: 0, hitRatePercent: 50, staleHits: 0 }
 * ```
 */
export class InMemoryMetrics implements MetricsCollector {
  private readonly latencySamples: number
  private caches = new Map<string, CacheCounters>()
  private latency = new Map<string, LatencyWindow>()
  private errors = new Map<string, Map<string, number>>()
  private memory = new Map<string, { bytes: number; entries: number }>()
  private backgroundRefresh = new Map<string, BackgroundRefreshStats>()
  private startedAt = performance.now()

  constructor(options: InMemoryMetricsOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`InMemoryMetrics options must be an object, got ${options === null ? 'null' : typeof options}`)
    }
    const { latencySamples = 1000 } = options
    if (typeof latencySamples !== 'number' || !Number.isInteger(latencySamples) || latencySamples < 1) {
      throw new TypeError(`Invalid latencySamples: expected a positive integer, got ${String(latencySamples)}`)
    }
    this.latencySamples = latencySamples
  }

  private counters(cacheName: string): CacheCounters {
    let counters = this.caches.get(cacheName)
    if (counters === undefined) {
      counters = { hits: 0, misses: 0, sets: 0, deletes: 0, staleHits: 0 }
      this.caches.set(cacheName, counters)
    }
    return counters
  }

  /** A hit; a `stale` one counts in both `hits` and `staleHits`. */
  recordHit(cacheName: string, stale?: boolean): void {
    const counters = this.counters(cacheName)
    counters.hits++
    if (stale === true) counters.staleHits++
  }

  recordMiss(cacheName: string): void {
    this.counters(cacheName).misses++
  }

  recordSet(cacheName: string): void {
    this.counters(cacheName).sets++
  }

  recordDelete(cacheName: string): void {
    this.counters(cacheName).deletes++
  }

  /** `seconds` is a duration in seconds; reported back in milliseconds. */
  recordLatency(cacheName: string, operation: string, seconds: number): void {
    if (!(seconds >= 0 && seconds < Infinity)) return
    const key = `${cacheName}.${operation}`
    let window = this.latency.get(key)
    if (window === undefined) {
      window = new LatencyWindow(this.latencySamples)
      this.latency.set(key, window)
    }
    window.add(seconds)
  }

  recordError(cacheName: string, operation: string, errorType: string): void {
    const key = `${cacheName}.${operation}`
    let byType = this.errors.get(key)
    if (byType === undefined) {
      byType = new Map()
      this.errors.set(key, byType)
    }
    byType.set(errorType, (byType.get(errorType) ?? 0) + 1)
  }

  /** Keeps the latest report per cache (a gauge, not a sum). */
  recordMemoryUsage(cacheName: string, bytes: number, entries: number): void {
    this.memory.set(cacheName, { bytes, entries })
  }

  recordBackgroundRefresh(cacheName: string, success: boolean): void {
    let counts = this.backgroundRefresh.get(cacheName)
    if (counts === undefined) {
      counts = { success: 0, failure: 0 }
      this.backgroundRefresh.set(cacheName, counts)
    }
    if (success) counts.success++
    else counts.failure++
  }

  /**
   * A snapshot of everything recorded, as fresh plain objects (safe to mutate or `JSON.stringify`).
   *
   * @example
   * ```ts
   * metrics.recordLatency('users', 'get', 0.002)
   * metrics.getStats().latency['users.get'] // { count: 1, p50Ms: 2, p95Ms: 2, p99Ms: 2, avgMs: 2 }
   * ```
   */
  getStats(): MetricsStats {
    // Object.fromEntries defines own properties, so a cache named '__proto__' cannot touch a prototype.
    return {
      uptimeSeconds: (performance.now() - this.startedAt) / 1000,
      caches: Object.fromEntries(
        Array.from(this.caches, ([name, c]): [string, CacheCounterStats] => {
          const lookups = c.hits + c.misses
          return [
            name,
            {
              hits: c.hits,
              misses: c.misses,
              sets: c.sets,
              deletes: c.deletes,
              hitRatePercent: lookups === 0 ? 0 : round2((c.hits / lookups) * 100),
              staleHits: c.staleHits,
            },
          ]
        }),
      ),
      latency: Object.fromEntries(Array.from(this.latency, ([key, window]) => [key, window.stats()])),
      errors: Object.fromEntries(Array.from(this.errors, ([key, byType]) => [key, Object.fromEntries(byType)])),
      memory: Object.fromEntries(
        Array.from(this.memory, ([name, m]) => [name, { bytes: m.bytes, entries: m.entries, mb: round2(m.bytes / 1048576) }]),
      ),
      backgroundRefresh: Object.fromEntries(
        Array.from(this.backgroundRefresh, ([name, counts]) => [name, { success: counts.success, failure: counts.failure }]),
      ),
    }
  }

  /**
   * Forget everything recorded and restart `uptimeSeconds`, e.g. between test cases or at the
   * start of a measurement window.
   *
   * @example
   * ```ts
   * metrics.reset()
   * metrics.getStats().caches // {}
   * ```
   */
  reset(): void {
    this.caches = new Map()
    this.latency = new Map()
    this.errors = new Map()
    this.memory = new Map()
    this.backgroundRefresh = new Map()
    this.startedAt = performance.now()
  }
}
