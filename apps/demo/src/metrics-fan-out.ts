import { METRICS_METHODS, type MetricsCollector } from '@acache/core'

/** One of {@link METRICS_METHODS}. */
export type MetricsMethod = (typeof METRICS_METHODS)[number]

/**
 * A `MetricsCollector` that forwards every call to several collectors — here `InMemoryMetrics`
 * (for `/stats` and the dashboard) and `PrometheusMetrics` (for `/metrics`), so each cached
 * function takes one `metrics` option and both views count the same events.
 *
 * @example
 * const metrics = new MetricsFanOut(new InMemoryMetrics(), new PrometheusMetrics({ namespace: 'app', subsystem: 'cache' }))
 * const getUser = cache(60, { metrics, name: 'users' })(fetchUser)
 */
export class MetricsFanOut implements MetricsCollector {
  private readonly collectors: readonly MetricsCollector[]

  constructor(...collectors: MetricsCollector[]) {
    this.collectors = collectors
  }

  recordHit(cacheName: string, stale?: boolean): void {
    for (const c of this.collectors) c.recordHit(cacheName, stale)
  }
  recordMiss(cacheName: string): void {
    for (const c of this.collectors) c.recordMiss(cacheName)
  }
  recordSet(cacheName: string): void {
    for (const c of this.collectors) c.recordSet(cacheName)
  }
  recordDelete(cacheName: string): void {
    for (const c of this.collectors) c.recordDelete(cacheName)
  }
  recordLatency(cacheName: string, operation: string, seconds: number): void {
    for (const c of this.collectors) c.recordLatency(cacheName, operation, seconds)
  }
  recordError(cacheName: string, operation: string, errorType: string): void {
    for (const c of this.collectors) c.recordError(cacheName, operation, errorType)
  }
  recordMemoryUsage(cacheName: string, bytes: number, entries: number): void {
    for (const c of this.collectors) c.recordMemoryUsage(cacheName, bytes, entries)
  }
  recordBackgroundRefresh(cacheName: string, success: boolean): void {
    for (const c of this.collectors) c.recordBackgroundRefresh(cacheName, success)
  }

  /**
   * Applies a call that arrived as data (from the writer process, over IPC). Anything that is not
   * one of the eight methods with a string cache name is ignored: the message crossed a process
   * boundary and is not trusted blindly.
   */
  apply(method: unknown, args: unknown): boolean {
    if (typeof method !== 'string' || !(METRICS_METHODS as readonly string[]).includes(method)) return false
    if (!Array.isArray(args) || typeof args[0] !== 'string' || args.length > 4) return false
    ;(this[method as MetricsMethod] as (...a: unknown[]) => void)(...args)
    return true
  }
}
