/**
 * @acache/opentelemetry — a `MetricsCollector` for `@acache/core` that records cache hits, misses,
 * stale hits, sets, deletes, errors, background refreshes, operation duration and memory gauges
 * through the OpenTelemetry metrics API (`@opentelemetry/api`).
 *
 * @packageDocumentation
 */
export { OpenTelemetryMetrics, DEFAULT_DURATION_BUCKETS, DEFAULT_METER_NAME, VERSION } from './opentelemetry-metrics.js'
export type { OpenTelemetryMetricsOptions } from './opentelemetry-metrics.js'
