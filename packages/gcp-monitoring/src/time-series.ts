import type { protos } from '@google-cloud/monitoring'

type ITimeSeries = protos.google.monitoring.v3.ITimeSeries
type ITypedValue = protos.google.monitoring.v3.ITypedValue
type ITimestamp = protos.google.protobuf.ITimestamp

/** Cloud Monitoring caps a label value at 1024 bytes; longer cache names are cut (at a character boundary). */
export const MAX_LABEL_VALUE_BYTES = 1024

/** A label value Cloud Monitoring accepts: at most {@link MAX_LABEL_VALUE_BYTES} bytes of UTF-8. */
export function labelValue(value: string): string {
  if (value.length * 3 <= MAX_LABEL_VALUE_BYTES || Buffer.byteLength(value) <= MAX_LABEL_VALUE_BYTES) return value
  let end = MAX_LABEL_VALUE_BYTES
  const bytes = Buffer.from(value)
  // Step back over UTF-8 continuation bytes so a character is never split.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--
  return bytes.subarray(0, end).toString()
}

/** Milliseconds since the epoch as a protobuf Timestamp. */
export function timestamp(ms: number): ITimestamp {
  const seconds = Math.floor(ms / 1000)
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) }
}

/**
 * One time series held in memory: its identity (metric type and labels), its current value, and
 * what the flush needs to respect Cloud Monitoring's rules (points in order, one point per
 * sampling period).
 */
export abstract class Series {
  /** Changed since the last point handed to the API (or that point failed). */
  dirty = false
  /** End time (ms) of the last point sent, whether or not the request succeeded: the next must be later. */
  lastEndMs = -Infinity

  constructor(
    readonly type: string,
    readonly labels: Readonly<Record<string, string>>,
  ) {}

  /** The point to send now, as a `TimeSeries` message without its resource. */
  abstract toTimeSeries(startMs: number, endMs: number): ITimeSeries
}

/** A CUMULATIVE INT64 count since the exporter started. */
export class CounterSeries extends Series {
  value = 0

  add(n = 1): void {
    this.value += n
    this.dirty = true
  }

  toTimeSeries(startMs: number, endMs: number): ITimeSeries {
    return point(this, 'CUMULATIVE', 'INT64', '1', { int64Value: this.value }, startMs, endMs)
  }
}

/** A GAUGE INT64: the last value reported. */
export class GaugeSeries extends Series {
  value = 0

  constructor(
    type: string,
    labels: Readonly<Record<string, string>>,
    private readonly unit: string,
  ) {
    super(type, labels)
  }

  set(value: number): void {
    this.value = value
    this.dirty = true
  }

  toTimeSeries(_startMs: number, endMs: number): ITimeSeries {
    // A GAUGE point is an instant: the start time is omitted (it would have to equal the end).
    return point(this, 'GAUGE', 'INT64', this.unit, { int64Value: Math.round(this.value) }, undefined, endMs)
  }
}

/**
 * A CUMULATIVE DISTRIBUTION of durations in milliseconds over explicit bucket bounds. Count,
 * mean and the sum of squared deviations are kept with Welford's update (numerically stable, O(1)).
 */
export class DistributionSeries extends Series {
  count = 0
  mean = 0
  sumOfSquaredDeviation = 0
  /** `bounds.length + 1` buckets: underflow `(-∞, b0)`, `[b(i-1), b(i))`, overflow `[bN-1, +∞)`. */
  readonly bucketCounts: number[]

  constructor(
    type: string,
    labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    super(type, labels)
    this.bucketCounts = new Array<number>(bounds.length + 1).fill(0)
  }

  add(ms: number): void {
    this.count++
    const delta = ms - this.mean
    this.mean += delta / this.count
    this.sumOfSquaredDeviation += delta * (ms - this.mean)
    const bounds = this.bounds
    // Binary search: the first bound greater than ms is the bucket index.
    let lo = 0
    let hi = bounds.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (bounds[mid] <= ms) lo = mid + 1
      else hi = mid
    }
    this.bucketCounts[lo]++
    this.dirty = true
  }

  toTimeSeries(startMs: number, endMs: number): ITimeSeries {
    return point(
      this,
      'CUMULATIVE',
      'DISTRIBUTION',
      'ms',
      {
        distributionValue: {
          count: this.count,
          mean: this.mean,
          sumOfSquaredDeviation: this.sumOfSquaredDeviation,
          bucketOptions: { explicitBuckets: { bounds: [...this.bounds] } },
          bucketCounts: [...this.bucketCounts],
        },
      },
      startMs,
      endMs,
    )
  }
}

function point(
  series: Series,
  metricKind: 'CUMULATIVE' | 'GAUGE',
  valueType: 'INT64' | 'DISTRIBUTION',
  unit: string,
  value: ITypedValue,
  startMs: number | undefined,
  endMs: number,
): ITimeSeries {
  return {
    metric: { type: series.type, labels: { ...series.labels } },
    metricKind,
    valueType,
    unit,
    points: [
      {
        interval: startMs === undefined ? { endTime: timestamp(endMs) } : { startTime: timestamp(startMs), endTime: timestamp(endMs) },
        value,
      },
    ],
  }
}
