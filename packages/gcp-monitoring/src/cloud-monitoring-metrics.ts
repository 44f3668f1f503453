import { hostname } from 'node:os'
import { MetricServiceClient, type protos } from '@google-cloud/monitoring'
import { checkOptionKeys, parseDuration, type Logger, type MetricsCollector } from '@acache/core'
import { CounterSeries, DistributionSeries, GaugeSeries, labelValue, type Series } from './time-series.js'

type ITimeSeries = protos.google.monitoring.v3.ITimeSeries
type ICreateTimeSeriesRequest = protos.google.monitoring.v3.ICreateTimeSeriesRequest

/** What the exporter needs of a client: `MetricServiceClient` satisfies it. */
export interface MonitoringClient {
  createTimeSeries(request: ICreateTimeSeriesRequest): Promise<unknown>
}

/** Options of the `MetricServiceClient` the exporter builds when no `client` is given. */
export type MetricServiceClientOptions = NonNullable<ConstructorParameters<typeof MetricServiceClient>[0]>

/** The monitored resource every series is written against. */
export interface MonitoredResource {
  /** A monitored resource type: `global`, `generic_task`, `k8s_container`, `gce_instance`, … */
  type: string
  /** The labels that type requires (e.g. `project_id` for `global`). */
  labels?: Record<string, string>
}

/** What a failed flush reports to `onError`. */
export interface FlushErrorInfo {
  operation: 'flush'
  /** Series whose point was not written; they are sent again by the next flush. */
  failedSeries: number
  /** Series this flush tried to write. */
  series: number
  /** `createTimeSeries` requests that failed, of `requests`. */
  failedRequests: number
  requests: number
  /** Flushes in a row that had a failure, this one included. */
  consecutiveFailures: number
}

/** Options of {@link GCPCloudMonitoringMetrics}. */
export interface GCPCloudMonitoringMetricsOptions {
  /** The Google Cloud project written to (`projects/<projectId>`). Required. */
  projectId: string
  /** A `MetricServiceClient` (or anything with its `createTimeSeries`). The exporter never closes it. */
  client?: MonitoringClient
  /**
   * Options for the `MetricServiceClient` built when `client` is absent. `projectId` and
   * `universeDomain: 'googleapis.com'` are filled in so the client never asks the metadata server
   * for them. The exporter closes the client it built in {@link GCPCloudMonitoringMetrics.close}.
   */
  clientOptions?: MetricServiceClientOptions
  /** Seconds (or `'30s'`, `'1m'`) between flushes. Default 60. */
  flushInterval?: number | string
  /**
   * The least time between two points of one series. Cloud Monitoring rejects points written more
   * often than its sampling period (5 s for custom metrics); a series changed sooner waits for the
   * next flush. Default 5. `0` only makes sense against an emulator.
   */
  minPointInterval?: number | string
  /** Prefix of every metric type. Default `custom.googleapis.com/acache`. */
  metricPrefix?: string
  /** The monitored resource. Default `{ type: 'global', labels: { project_id: projectId } }`. */
  resource?: MonitoredResource
  /**
   * The `instance_id` metric label that keeps the series of concurrent processes apart (Cloud
   * Monitoring rejects two writers interleaving points of one series). Default `<pid>@<hostname>`.
   * `null` drops the label — only when `resource` already identifies the process.
   */
  instanceId?: string | null
  /** Bucket bounds of the latency distribution, in milliseconds, strictly increasing. Default {@link DEFAULT_LATENCY_BOUNDS_MS}. */
  latencyBoundsMs?: readonly number[]
  /** Receives every flush that failed (at most one call per flush). Without it, `logger` warns, at most once a minute. */
  onError?: (error: unknown, info: FlushErrorInfo) => void
  /** Where warnings go. Default `console`; `null` silences them. */
  logger?: Logger | null
}

/** Default latency buckets, in milliseconds: 0.1 ms (a memory hit) to 30 s (a stuck loader). */
export const DEFAULT_LATENCY_BOUNDS_MS: readonly number[] = Object.freeze([
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
])

/** Cloud Monitoring accepts at most this many time series per `createTimeSeries` request. */
export const MAX_SERIES_PER_REQUEST = 200

const DEFAULT_PREFIX = 'custom.googleapis.com/acache'
const WARN_INTERVAL_MS = 60_000
/** setInterval's largest delay; beyond it Node fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1
const WHERE = 'GCPCloudMonitoringMetrics'
const OPTIONS = [
  'projectId',
  'client',
  'clientOptions',
  'flushInterval',
  'minPointInterval',
  'metricPrefix',
  'resource',
  'instanceId',
  'latencyBoundsMs',
  'onError',
  'logger',
] as const

interface CacheCounters {
  hits: CounterSeries
  staleHits: CounterSeries
  misses: CounterSeries
  sets: CounterSeries
  deletes: CounterSeries
}

/**
 * A `MetricsCollector` that exports to Google Cloud Monitoring. `record*` calls only update
 * counters in memory; every `flushInterval` (and on {@link close}) the changed series are written
 * with `createTimeSeries`, at most 200 per request, under `custom.googleapis.com/acache/…`:
 * counts as CUMULATIVE INT64, latency as a CUMULATIVE DISTRIBUTION in milliseconds, memory as
 * GAUGE INT64. A failed flush is reported and its series are sent again by the next one; it
 * never throws into the cache.
 *
 * @example
 * ```ts
 * import { cache } from '@acache/core'
 * import { GCPCloudMonitoringMetrics } from '@acache/gcp-monitoring'
 *
 * const metrics = new GCPCloudMonitoringMetrics({ projectId: 'my-project', flushInterval: 60 })
 * const getUser = cache(60, { metrics, name: 'users' })(fetchUser)
 * process.on('SIGTERM', () => void metrics.close())
 * ```
 */
export class GCPCloudMonitoringMetrics implements MetricsCollector {
  /** Start time of every CUMULATIVE series (ms): counts are totals since the exporter was created. */
  readonly startTime: number
  private readonly client: MonitoringClient
  private readonly ownedClient: MetricServiceClient | undefined
  private readonly projectName: string
  private readonly resource: { type: string; labels: Record<string, string> }
  private readonly prefix: string
  private readonly baseLabels: Readonly<Record<string, string>>
  private readonly bounds: readonly number[]
  private readonly minGapMs: number
  private readonly onError: GCPCloudMonitoringMetricsOptions['onError']
  private readonly logger: Logger | null

  private readonly all: Series[] = []
  private readonly caches = new Map<string, CacheCounters>()
  private readonly latency = new Map<string, Map<string, DistributionSeries>>()
  private readonly errors = new Map<string, CounterSeries>()
  private readonly refreshes = new Map<string, { success: CounterSeries; failure: CounterSeries }>()
  private readonly memory = new Map<string, { bytes: GaugeSeries; entries: GaugeSeries }>()

  private timer: ReturnType<typeof setInterval> | undefined
  private running: Promise<void> | undefined
  private queued: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private consecutiveFailures = 0
  private lastWarnMs = -Infinity
  private suppressedWarnings = 0

  constructor(options: GCPCloudMonitoringMetricsOptions) {
    if (options === undefined) throw new TypeError(`${WHERE}: options are required ({ projectId })`)
    checkOptionKeys(WHERE, options, OPTIONS)
    const { projectId, client, clientOptions, resource, instanceId, onError, logger } = options

    if (typeof projectId !== 'string' || projectId === '' || projectId.includes('/')) {
      throw new TypeError(`${WHERE}: option "projectId" must be a non-empty project id (got ${JSON.stringify(projectId)})`)
    }
    if (client !== undefined && (client === null || typeof client.createTimeSeries !== 'function')) {
      throw new TypeError(`${WHERE}: option "client" must be a MetricServiceClient (an object with createTimeSeries)`)
    }
    if (client !== undefined && clientOptions !== undefined) {
      throw new TypeError(`${WHERE}: give option "client" or option "clientOptions", not both`)
    }
    if (clientOptions !== undefined && (clientOptions === null || typeof clientOptions !== 'object')) {
      throw new TypeError(`${WHERE}: option "clientOptions" must be an object of MetricServiceClient options`)
    }
    const flushSeconds = parseDuration(options.flushInterval ?? 60, 'flushInterval')
    if (!(flushSeconds > 0) || flushSeconds * 1000 > MAX_TIMER_MS) {
      throw new TypeError(`${WHERE}: option "flushInterval" must be more than 0 and at most ${MAX_TIMER_MS / 1000} seconds`)
    }
    this.minGapMs = parseDuration(options.minPointInterval ?? 5, 'minPointInterval') * 1000
    const prefix = options.metricPrefix ?? DEFAULT_PREFIX
    if (typeof prefix !== 'string' || !/^[\w.-]+\.[a-z]+\/[\w./-]*\w$/.test(prefix)) {
      throw new TypeError(`${WHERE}: option "metricPrefix" must look like "custom.googleapis.com/acache" (got ${JSON.stringify(prefix)})`)
    }
    if (
      resource !== undefined &&
      (resource === null ||
        typeof resource !== 'object' ||
        typeof resource.type !== 'string' ||
        resource.type === '' ||
        (resource.labels !== undefined && !isStringRecord(resource.labels)))
    ) {
      throw new TypeError(`${WHERE}: option "resource" must be { type: string, labels?: { [name]: string } }`)
    }
    if (instanceId !== undefined && instanceId !== null && (typeof instanceId !== 'string' || instanceId === '')) {
      throw new TypeError(`${WHERE}: option "instanceId" must be a non-empty string or null`)
    }
    const bounds = options.latencyBoundsMs ?? DEFAULT_LATENCY_BOUNDS_MS
    if (
      !Array.isArray(bounds) ||
      bounds.length === 0 ||
      bounds.some((b, i) => typeof b !== 'number' || !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]))
    ) {
      throw new TypeError(`${WHERE}: option "latencyBoundsMs" must be a non-empty array of strictly increasing finite numbers`)
    }
    if (onError !== undefined && typeof onError !== 'function') {
      throw new TypeError(`${WHERE}: option "onError" must be a function (error, info) => void`)
    }
    if (logger !== undefined && logger !== null && typeof logger?.warn !== 'function') {
      throw new TypeError(`${WHERE}: option "logger" must be an object with a warn(message, error) method, or null`)
    }

    this.projectName = `projects/${projectId}`
    this.prefix = prefix
    this.resource =
      resource === undefined ? { type: 'global', labels: { project_id: projectId } } : { type: resource.type, labels: { ...resource.labels } }
    const instance = instanceId === undefined ? `${process.pid}@${hostname()}` : instanceId
    this.baseLabels = instance === null ? {} : { instance_id: labelValue(instance) }
    this.bounds = Object.freeze([...bounds])
    this.onError = onError
    this.logger = logger === undefined ? console : logger
    if (client !== undefined) {
      this.client = client
    } else {
      // An explicit projectId and universeDomain spare the client its metadata-server probes.
      this.ownedClient = new MetricServiceClient({ universeDomain: 'googleapis.com', projectId, ...clientOptions })
      this.client = this.ownedClient
    }
    this.startTime = Date.now()
    this.timer = setInterval(() => this.tick(), flushSeconds * 1000)
    // Metrics must never keep a process alive.
    this.timer.unref()
  }

  // ---- MetricsCollector: in-memory only, no I/O -------------------------------------------------

  /** A hit; a `stale` one also counts in `stale_hits`. */
  recordHit(cacheName: string, stale?: boolean): void {
    const counters = this.cacheCounters(cacheName)
    counters.hits.add()
    if (stale === true) counters.staleHits.add()
  }

  recordMiss(cacheName: string): void {
    this.cacheCounters(cacheName).misses.add()
  }

  recordSet(cacheName: string): void {
    this.cacheCounters(cacheName).sets.add()
  }

  recordDelete(cacheName: string): void {
    this.cacheCounters(cacheName).deletes.add()
  }

  /** `seconds` is exported in milliseconds; negative, NaN and infinite samples are ignored. */
  recordLatency(cacheName: string, operation: string, seconds: number): void {
    if (!(seconds >= 0 && seconds < Infinity)) return
    let byOperation = this.latency.get(cacheName)
    if (byOperation === undefined) {
      byOperation = new Map()
      this.latency.set(cacheName, byOperation)
    }
    let series = byOperation.get(operation)
    if (series === undefined) {
      series = this.track(
        new DistributionSeries(`${this.prefix}/operation_latency`, this.labels({ cache_name: cacheName, operation }), this.bounds),
      )
      byOperation.set(operation, series)
    }
    series.add(seconds * 1000)
  }

  recordError(cacheName: string, operation: string, errorType: string): void {
    const key = `${cacheName}\u0000${operation}\u0000${errorType}`
    let series = this.errors.get(key)
    if (series === undefined) {
      series = this.track(
        new CounterSeries(`${this.prefix}/errors`, this.labels({ cache_name: cacheName, operation, error_type: errorType })),
      )
      this.errors.set(key, series)
    }
    series.add()
  }

  /** Gauges: the last report per cache is exported. */
  recordMemoryUsage(cacheName: string, bytes: number, entries: number): void {
    if (!Number.isFinite(bytes) || !Number.isFinite(entries)) return
    let gauges = this.memory.get(cacheName)
    if (gauges === undefined) {
      const labels = this.labels({ cache_name: cacheName })
      gauges = {
        bytes: this.track(new GaugeSeries(`${this.prefix}/memory_bytes`, labels, 'By')),
        entries: this.track(new GaugeSeries(`${this.prefix}/entries`, labels, '1')),
      }
      this.memory.set(cacheName, gauges)
    }
    gauges.bytes.set(bytes)
    gauges.entries.set(entries)
  }

  recordBackgroundRefresh(cacheName: string, success: boolean): void {
    let counters = this.refreshes.get(cacheName)
    if (counters === undefined) {
      const type = `${this.prefix}/background_refreshes`
      counters = {
        success: this.track(new CounterSeries(type, this.labels({ cache_name: cacheName, status: 'success' }))),
        failure: this.track(new CounterSeries(type, this.labels({ cache_name: cacheName, status: 'failure' }))),
      }
      this.refreshes.set(cacheName, counters)
    }
    ;(success ? counters.success : counters.failure).add()
  }

  // ---- Export -----------------------------------------------------------------------------------

  /**
   * Writes every series that changed since its last point (and every series whose last write
   * failed) now, instead of waiting for the timer. Never rejects: failures go to `onError` or the
   * logger. Concurrent calls share one write in flight plus at most one queued behind it. After
   * {@link close} it resolves once the final flush is done.
   *
   * @example
   * ```ts
   * await metrics.flush()
   * ```
   */
  flush(): Promise<void> {
    if (this.closing !== undefined) return this.closing
    return this.schedule()
  }

  /**
   * Stops the timer, flushes once more and closes the client the exporter built (never one passed
   * as `client`). Series written less than `minPointInterval` ago are waited for, so close may take
   * up to that long. Idempotent; never rejects. Values recorded afterwards are not exported.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => { await bg.shutdown(); await metrics.close(); process.exit(0) })
   * ```
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing
    clearInterval(this.timer)
    this.timer = undefined
    this.closing = (async () => {
      await this.queued
      await this.running
      // The final write must not be skipped for a series written moments ago: wait out its gap
      // (a loop, since a timer may wake a millisecond before the wall clock says it should).
      for (let wait = this.throttledFor(Date.now()); wait > 0; wait = this.throttledFor(Date.now())) {
        await new Promise((resolve) => setTimeout(resolve, wait + 1))
      }
      await this.flushOnce().catch((error: unknown) => this.warn('acache: Cloud Monitoring flush crashed', error))
      if (this.ownedClient !== undefined) {
        try {
          await this.ownedClient.close()
        } catch (error) {
          this.warn('acache: closing the Cloud Monitoring client failed', error)
        }
      }
    })()
    return this.closing
  }

  private tick(): void {
    // A slow write must not pile up behind itself: skip this tick, the next one catches up.
    if (this.running === undefined) void this.schedule()
  }

  private schedule(): Promise<void> {
    if (this.running === undefined) {
      this.running = this.flushOnce()
        // flushOnce reports its own failures; this only guards against a bug becoming an unhandled rejection.
        .catch((error: unknown) => this.warn('acache: Cloud Monitoring flush crashed', error))
        .finally(() => {
          this.running = undefined
        })
      return this.running
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined
      return this.schedule()
    })
    return this.queued
  }

  /** How long (ms) the longest-waiting changed series must still wait before it may be written. */
  private throttledFor(now: number): number {
    let wait = 0
    for (const series of this.all) {
      if (series.dirty) wait = Math.max(wait, series.lastEndMs + this.minGapMs - now)
    }
    return wait
  }

  private async flushOnce(): Promise<void> {
    const now = Date.now()
    const due: Series[] = []
    const timeSeries: ITimeSeries[] = []
    for (const series of this.all) {
      if (!series.dirty || now < series.lastEndMs + this.minGapMs) continue
      // End times must increase per series and, for CUMULATIVE, exceed the start time.
      const end = Math.max(now, series.lastEndMs + 1, this.startTime + 1)
      const ts = series.toTimeSeries(this.startTime, end)
      ts.resource = this.resource
      timeSeries.push(ts)
      due.push(series)
      series.dirty = false
      series.lastEndMs = end
    }
    if (due.length === 0) return

    const requests: Promise<unknown>[] = []
    for (let i = 0; i < timeSeries.length; i += MAX_SERIES_PER_REQUEST) {
      const batch = timeSeries.slice(i, i + MAX_SERIES_PER_REQUEST)
      requests.push(
        (async () => {
          await this.client.createTimeSeries({ name: this.projectName, timeSeries: batch })
        })(),
      )
    }
    const results = await Promise.allSettled(requests)
    let firstError: unknown
    let failedRequests = 0
    let failedSeries = 0
    results.forEach((result, r) => {
      if (result.status === 'fulfilled') return
      if (failedRequests++ === 0) firstError = result.reason
      // Cumulative values carry over: marking the series changed makes the next flush resend them.
      const batch = due.slice(r * MAX_SERIES_PER_REQUEST, (r + 1) * MAX_SERIES_PER_REQUEST)
      for (const series of batch) series.dirty = true
      failedSeries += batch.length
    })
    if (failedRequests === 0) {
      this.consecutiveFailures = 0
      return
    }
    this.consecutiveFailures++
    this.report(firstError, {
      operation: 'flush',
      failedSeries,
      series: due.length,
      failedRequests,
      requests: requests.length,
      consecutiveFailures: this.consecutiveFailures,
    })
  }

  private report(error: unknown, info: FlushErrorInfo): void {
    let message = `acache: Cloud Monitoring flush failed for ${info.failedSeries} of ${info.series} series; they are retried on the next flush`
    if (this.onError !== undefined) {
      try {
        this.onError(error, info)
        return
      } catch (handlerError) {
        message = 'acache: onError threw while handling a Cloud Monitoring flush failure'
        error = handlerError
      }
    }
    // A long outage fails every flush: one warning a minute says so without flooding the log.
    const now = Date.now()
    if (now - this.lastWarnMs < WARN_INTERVAL_MS) {
      this.suppressedWarnings++
      return
    }
    if (this.suppressedWarnings > 0) message += ` (${this.suppressedWarnings} more failures since the last warning)`
    this.lastWarnMs = now
    this.suppressedWarnings = 0
    this.warn(message, error)
  }

  private warn(message: string, error: unknown): void {
    try {
      this.logger?.warn(message, error)
    } catch {
      // A broken logger must not break the flush timer or close().
    }
  }

  private cacheCounters(cacheName: string): CacheCounters {
    let counters = this.caches.get(cacheName)
    if (counters === undefined) {
      const labels = this.labels({ cache_name: cacheName })
      const p = this.prefix
      counters = {
        hits: this.track(new CounterSeries(`${p}/hits`, labels)),
        staleHits: this.track(new CounterSeries(`${p}/stale_hits`, labels)),
        misses: this.track(new CounterSeries(`${p}/misses`, labels)),
        sets: this.track(new CounterSeries(`${p}/sets`, labels)),
        deletes: this.track(new CounterSeries(`${p}/deletes`, labels)),
      }
      this.caches.set(cacheName, counters)
    }
    return counters
  }

  private labels(own: Record<string, string>): Record<string, string> {
    const labels: Record<string, string> = { ...this.baseLabels }
    for (const name of Object.keys(own)) labels[name] = labelValue(String(own[name]))
    return labels
  }

  private track<S extends Series>(series: S): S {
    this.all.push(series)
    return series
  }
}

function isStringRecord(x: unknown): x is Record<string, string> {
  return x !== null && typeof x === 'object' && Object.values(x).every((v) => typeof v === 'string')
}
