/**
 * TEST FIXTURE — not Google Cloud Monitoring.
 *
 * A local gRPC server implementing `google.monitoring.v3.MetricService/CreateTimeSeries` from the
 * protos shipped inside `@google-cloud/monitoring` and `google-gax`, so the real
 * `MetricServiceClient` talks to it over a loopback port exactly as it would to
 * monitoring.googleapis.com. It records every request and enforces the write rules the real
 * service documents, so an exporter that breaks them fails here too:
 * - `name` is `projects/<id>`; 1 to 200 time series per request; one point per series; a series
 *   at most once per request;
 * - custom metrics are GAUGE or CUMULATIVE (no DELTA); the value matches `valueType`; a metric
 *   type keeps its kind and value type;
 * - CUMULATIVE intervals have start < end; GAUGE intervals have no start or start = end; end
 *   times are at most 25 h old and 5 min ahead, increase per series, and are at least the
 *   sampling period (`minPointIntervalMs`, 5 s in production) apart;
 * - label values are at most 1024 bytes; distributions have `bounds + 1` bucket counts that sum
 *   to `count`.
 * Like the real service, valid series of a request are stored even when others are rejected
 * (INVALID_ARGUMENT). `failNext()` makes the next requests fail with a chosen gRPC status.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

/** A Timestamp as decoded with `longs: String`. */
export interface WireTimestamp {
  seconds: string
  nanos: number
}

/** A `google.monitoring.v3.TimeSeries` as received (camelCase, int64 as strings, enums as names). */
export interface WireTimeSeries {
  metric: { type: string; labels?: Record<string, string> }
  resource: { type: string; labels?: Record<string, string> }
  metricKind: string
  valueType: string
  unit?: string
  points: Array<{
    interval: { startTime?: WireTimestamp; endTime?: WireTimestamp }
    value: {
      value?: string
      int64Value?: string
      doubleValue?: number
      distributionValue?: {
        count?: string
        mean?: number
        sumOfSquaredDeviation?: number
        bucketOptions?: { explicitBuckets?: { bounds: number[] } }
        bucketCounts?: string[]
      }
    }
  }>
}

/** One `CreateTimeSeries` call as received. */
export interface RecordedRequest {
  name: string
  timeSeries: WireTimeSeries[]
  metadata: Record<string, unknown>
  /** The gRPC status code answered (0 = OK). */
  code: grpc.status
}

const PROTO_FILE = 'google/monitoring/v3/metric_service.proto'

function protoDirs(): string[] {
  const require = createRequire(__filename)
  const monitoringPkg = require.resolve('@google-cloud/monitoring/package.json')
  // google-gax is a dependency of @google-cloud/monitoring, resolved from there.
  const gaxMain = createRequire(monitoringPkg).resolve('google-gax')
  return [join(dirname(monitoringPkg), 'build/protos'), join(dirname(gaxMain), '../../build/protos')]
}

export function timestampMs(t: WireTimestamp | undefined): number | undefined {
  return t === undefined ? undefined : Number(t.seconds) * 1000 + t.nanos / 1e6
}

function seriesKey(ts: WireTimeSeries): string {
  const sorted = (labels: Record<string, string> | undefined) => Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))
  return JSON.stringify([ts.metric?.type, sorted(ts.metric?.labels), ts.resource?.type, sorted(ts.resource?.labels)])
}

export class MonitoringFixture {
  /** Every request, failed ones included, in arrival order. */
  readonly requests: RecordedRequest[] = []
  /** Points stored per series (key: metric type + labels + resource), in write order. */
  readonly stored = new Map<string, WireTimeSeries[]>()
  private readonly descriptors = new Map<string, { metricKind: string; valueType: string }>()
  private failures: Array<{ code: grpc.status; message: string }> = []

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
    private readonly minPointIntervalMs: number,
  ) {}

  /** Starts the fixture on a free loopback port. `minPointIntervalMs` is the sampling period enforced per series. */
  static async start(options: { minPointIntervalMs?: number } = {}): Promise<MonitoringFixture> {
    const definition = protoLoader.loadSync(PROTO_FILE, {
      includeDirs: protoDirs(),
      keepCase: false,
      longs: String,
      enums: String,
      defaults: false,
      oneofs: true,
    })
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      google: { monitoring: { v3: { MetricService: { service: grpc.ServiceDefinition } } } }
    }
    const server = new grpc.Server()
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
    )
    const fixture = new MonitoringFixture(server, port, options.minPointIntervalMs ?? 5000)
    server.addService(loaded.google.monitoring.v3.MetricService.service, {
      CreateTimeSeries: (call: grpc.ServerUnaryCall<{ name: string; timeSeries?: WireTimeSeries[] }, object>, callback: grpc.sendUnaryData<object>) => {
        const result = fixture.createTimeSeries(call.request, call.metadata.getMap())
        if (result === null) callback(null, {})
        else callback({ code: result.code, details: result.message, metadata: new grpc.Metadata() } as grpc.ServiceError, null)
      },
    })
    return fixture
  }

  /** Makes the next `count` requests fail with `code` (nothing stored), as an outage would. */
  failNext(count = 1, code: grpc.status = grpc.status.UNAVAILABLE, message = 'fixture: injected failure'): void {
    for (let i = 0; i < count; i++) this.failures.push({ code, message })
  }

  /** Time series received in successful requests, flattened. */
  accepted(): WireTimeSeries[] {
    return this.requests.filter((r) => r.code === grpc.status.OK).flatMap((r) => r.timeSeries)
  }

  /** Points stored for the series with this metric type and exact metric labels. */
  points(type: string, labels: Record<string, string>): WireTimeSeries[] {
    const want = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))
    const found: WireTimeSeries[] = []
    for (const list of this.stored.values()) {
      const ts = list[0]
      const have = JSON.stringify(Object.entries(ts.metric.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))
      if (ts.metric.type === type && have === want) found.push(...list)
    }
    return found
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()))
  }

  private createTimeSeries(
    request: { name: string; timeSeries?: WireTimeSeries[] },
    metadata: Record<string, unknown>,
  ): { code: grpc.status; message: string } | null {
    const timeSeries = request.timeSeries ?? []
    const recorded: RecordedRequest = { name: request.name, timeSeries, metadata, code: grpc.status.OK }
    this.requests.push(recorded)
    const fail = (code: grpc.status, message: string) => {
      recorded.code = code
      return { code, message }
    }
    const injected = this.failures.shift()
    if (injected !== undefined) return fail(injected.code, injected.message)
    if (!/^projects\/[^/]+$/.test(request.name ?? '')) return fail(grpc.status.INVALID_ARGUMENT, `invalid name ${request.name}`)
    if (timeSeries.length === 0) return fail(grpc.status.INVALID_ARGUMENT, 'Request was missing field timeSeries')
    if (timeSeries.length > 200) {
      return fail(grpc.status.INVALID_ARGUMENT, `Request had ${timeSeries.length} time series; the maximum is 200`)
    }
    const errors: string[] = []
    const seen = new Set<string>()
    const now = Date.now()
    for (const [i, ts] of timeSeries.entries()) {
      const problem = this.check(ts, seen, now)
      if (problem !== undefined) {
        errors.push(`timeSeries[${i}]: ${problem}`)
        continue
      }
      const key = seriesKey(ts)
      seen.add(key)
      this.descriptors.set(ts.metric.type, { metricKind: ts.metricKind, valueType: ts.valueType })
      const list = this.stored.get(key) ?? []
      list.push(ts)
      this.stored.set(key, list)
    }
    if (errors.length > 0) return fail(grpc.status.INVALID_ARGUMENT, `One or more TimeSeries could not be written: ${errors.join('; ')}`)
    return null
  }

  private check(ts: WireTimeSeries, seen: Set<string>, now: number): string | undefined {
    if (!ts.metric?.type) return 'metric.type is required'
    if (!ts.resource?.type) return 'resource.type is required'
    for (const value of [...Object.values(ts.metric.labels ?? {}), ...Object.values(ts.resource.labels ?? {})]) {
      if (Buffer.byteLength(value) > 1024) return 'label value longer than 1024 bytes'
    }
    const key = seriesKey(ts)
    if (seen.has(key)) return 'Field timeSeries[] had an invalid value: duplicate time series in one request'
    if (ts.metricKind !== 'GAUGE' && ts.metricKind !== 'CUMULATIVE') return `metric kind ${ts.metricKind} is not supported for custom metrics`
    const descriptor = this.descriptors.get(ts.metric.type)
    if (descriptor !== undefined && (descriptor.metricKind !== ts.metricKind || descriptor.valueType !== ts.valueType)) {
      return `metric kind/value type must be ${descriptor.metricKind}/${descriptor.valueType}, got ${ts.metricKind}/${ts.valueType}`
    }
    if (ts.points?.length !== 1) return `a time series must have exactly one point, got ${ts.points?.length ?? 0}`
    const [point] = ts.points
    const expectedValue = { INT64: 'int64Value', DOUBLE: 'doubleValue', DISTRIBUTION: 'distributionValue' }[ts.valueType]
    if (expectedValue === undefined || point.value?.value !== expectedValue) return `value ${point.value?.value} does not match value type ${ts.valueType}`
    if (ts.valueType === 'DISTRIBUTION') {
      const d = point.value.distributionValue!
      const bounds = d.bucketOptions?.explicitBuckets?.bounds ?? []
      const counts = (d.bucketCounts ?? []).map(Number)
      if (counts.length !== bounds.length + 1) return `bucketCounts has ${counts.length} values for ${bounds.length} bounds`
      if (counts.reduce((a, b) => a + b, 0) !== Number(d.count ?? 0)) return 'bucketCounts do not sum to count'
    }
    const end = timestampMs(point.interval?.endTime)
    const start = timestampMs(point.interval?.startTime)
    if (end === undefined) return 'interval.endTime is required'
    if (end < now - 25 * 3600_000) return 'end time more than 25 hours in the past'
    if (end > now + 5 * 60_000) return 'end time more than 5 minutes in the future'
    if (ts.metricKind === 'CUMULATIVE' && !(start !== undefined && start < end)) {
      return 'The start time must be before the end time for the cumulative metric'
    }
    if (ts.metricKind === 'GAUGE' && start !== undefined && start !== end) return 'a gauge interval must have start time = end time'
    const previous = this.stored.get(key)?.at(-1)
    if (previous !== undefined) {
      const previousEnd = timestampMs(previous.points[0].interval.endTime)!
      if (end <= previousEnd) return 'Points must be written in order. One or more of the points specified had an older end time than the most recent point.'
      if (end - previousEnd < this.minPointIntervalMs) {
        return 'One or more points were written more frequently than the maximum sampling period configured for the metric.'
      }
    }
    return undefined
  }
}
