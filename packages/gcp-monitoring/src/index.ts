/**
 * @acache/gcp-monitoring — exports acache metrics to Google Cloud Monitoring through
 * `@google-cloud/monitoring`: counts as CUMULATIVE INT64, latency as a CUMULATIVE DISTRIBUTION,
 * memory as GAUGE, written in batches of at most 200 series every `flushInterval`.
 *
 * @packageDocumentation
 */
export { GCPCloudMonitoringMetrics, DEFAULT_LATENCY_BOUNDS_MS, MAX_SERIES_PER_REQUEST } from './cloud-monitoring-metrics.js'
export type {
  FlushErrorInfo,
  GCPCloudMonitoringMetricsOptions,
  MetricServiceClientOptions,
  MonitoredResource,
  MonitoringClient,
} from './cloud-monitoring-metrics.js'
