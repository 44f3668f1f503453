import type { MetricsCollector } from '@acache/core'

/** A collector forwarding every call to each of `collectors` (the tests compare an exporter with InMemoryMetrics). */
export function teeMetrics(...collectors: MetricsCollector[]): MetricsCollector {
  return {
    recordHit: (name, stale) => collectors.forEach((c) => c.recordHit(name, stale)),
    recordMiss: (name) => collectors.forEach((c) => c.recordMiss(name)),
    recordSet: (name) => collectors.forEach((c) => c.recordSet(name)),
    recordDelete: (name) => collectors.forEach((c) => c.recordDelete(name)),
    recordLatency: (name, op, s) => collectors.forEach((c) => c.recordLatency(name, op, s)),
    recordError: (name, op, type) => collectors.forEach((c) => c.recordError(name, op, type)),
    recordMemoryUsage: (name, bytes, entries) => collectors.forEach((c) => c.recordMemoryUsage(name, bytes, entries)),
    recordBackgroundRefresh: (name, ok) => collectors.forEach((c) => c.recordBackgroundRefresh(name, ok)),
  }
}
