/**
 * @acache/prometheus — a `MetricsCollector` for `@acache/core` that exports cache hits, misses,
 * stale hits, sets, deletes, errors, background refreshes, operation latency and memory gauges
 * through prom-client.
 *
 * @packageDocumentation
 */
export { PrometheusMetrics, DEFAULT_LATENCY_BUCKETS } from './prometheus-metrics.js'
export type { PrometheusMetricsOptions } from './prometheus-metrics.js'
