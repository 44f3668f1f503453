import type { Attributes } from '@opentelemetry/api'
import { MetricReader, type MetricData } from '@opentelemetry/sdk-metrics'

/** A pull reader: `collect()` gathers what the SDK holds now (no exporter, no timer). */
export class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}

  /** Every metric of every scope, failing on collection errors. */
  async metrics(): Promise<MetricData[]> {
    const { resourceMetrics, errors } = await this.collect()
    if (errors.length > 0) throw new AggregateError(errors, 'collection failed')
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
  }
}

/** `a=x,b=y` with attribute names sorted. */
export function attributesKey(attributes: Attributes): string {
  return Object.keys(attributes)
    .sort()
    .map((k) => `${k}=${String(attributes[k])}`)
    .join(',')
}

/** The metric named `name` (undefined when it has no data points). */
export function metric(metrics: MetricData[], name: string): MetricData | undefined {
  return metrics.find((m) => m.descriptor.name === name)
}

/** The data points of a sum or gauge as `attributesKey → value`. */
export function values(metrics: MetricData[], name: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const p of metric(metrics, name)?.dataPoints ?? []) out[attributesKey(p.attributes)] = p.value as number
  return out
}

/** Every attribute value of every data point. */
export function attributeValues(metrics: MetricData[]): Set<string> {
  const out = new Set<string>()
  for (const m of metrics) for (const p of m.dataPoints) for (const v of Object.values(p.attributes)) out.add(String(v))
  return out
}
