import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { hostname } from 'node:os'
import { promisify } from 'node:util'
import * as grpc from '@grpc/grpc-js'
import { MetricServiceClient } from '@google-cloud/monitoring'
import { bg, cache, InMemoryMetrics } from '@acache/core'
import { DEFAULT_LATENCY_BOUNDS_MS, GCPCloudMonitoringMetrics, type FlushErrorInfo, type GCPCloudMonitoringMetricsOptions } from '../src/index.js'
import { MonitoringFixture, timestampMs, type WireTimeSeries } from './support/monitoring-fixture.js'
import { MetadataTripwire } from './support/metadata-tripwire.js'
import { teeMetrics } from './support/tee-metrics.js'

const execFileAsync = promisify(execFile)
const PROJECT = 'acache-test'
const PREFIX = 'custom.googleapis.com/acache'
const INSTANCE = 'test-instance'
const GLOBAL = { type: 'global', labels: { project_id: PROJECT } }

let fixture: MonitoringFixture
let client: MetricServiceClient
const exporters: GCPCloudMonitoringMetrics[] = []

function connect(port: number): MetricServiceClient {
  return new MetricServiceClient({
    apiEndpoint: '127.0.0.1',
    port,
    projectId: PROJECT,
    universeDomain: 'googleapis.com',
    sslCreds: grpc.credentials.createInsecure(),
  })
}

/** An exporter on the fixture, with no timer flush during the test unless asked. */
function exporter(options: Partial<GCPCloudMonitoringMetricsOptions> = {}): GCPCloudMonitoringMetrics {
  const e = new GCPCloudMonitoringMetrics({
    projectId: PROJECT,
    client,
    flushInterval: 3600,
    minPointInterval: 0,
    instanceId: INSTANCE,
    logger: null,
    ...options,
  })
  exporters.push(e)
  return e
}

/** The single series of `type` with these metric labels among `list` (fails when not exactly one). */
function only(list: WireTimeSeries[], type: string, labels: Record<string, string>): WireTimeSeries {
  const found = list.filter((ts) => ts.metric.type === `${PREFIX}/${type}` && sameLabels(ts.metric.labels ?? {}, labels))
  expect(found).toHaveLength(1)
  return found[0]
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort())
}

function int64(ts: WireTimeSeries): number {
  expect(ts.points).toHaveLength(1)
  return Number(ts.points[0].value.int64Value)
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

beforeEach(async () => {
  fixture = await MonitoringFixture.start({ minPointIntervalMs: 0 })
  client = connect(fixture.port)
})

afterEach(async () => {
  await bg.shutdown()
  await Promise.all(exporters.splice(0).map((e) => e.close()))
  await client.close()
  await fixture.stop()
})

describe('what arrives', () => {
  test('cache() traffic: counters, latency distribution, memory gauges, labels, resource, times', async () => {
    const metrics = exporter()
    const oracle = new InMemoryMetrics()
    let calls = 0
    const getUser = cache(60, { metrics: teeMetrics(metrics, oracle), name: 'users', key: 'user:{id}' })(async (id: number) => {
      calls++
      await sleep(2)
      return { id, name: `user ${id}` }
    })
    await getUser(1)
    await getUser(1)
    await getUser(2)
    await getUser.invalidate(2)
    expect(calls).toBe(2)

    const before = Date.now()
    await metrics.flush()
    const after = Date.now()

    expect(fixture.requests).toHaveLength(1)
    const [request] = fixture.requests
    expect(request.name).toBe(`projects/${PROJECT}`)
    expect(request.code).toBe(grpc.status.OK)
    const sent = request.timeSeries
    const users = { cache_name: 'users', instance_id: INSTANCE }
    // Only series that changed are sent: no stale hits, errors or refreshes happened.
    expect(sent.map((ts) => ts.metric.type.slice(PREFIX.length + 1)).sort()).toEqual(
      ['deletes', 'entries', 'hits', 'memory_bytes', 'misses', 'operation_latency', 'sets'].sort(),
    )
    expect(int64(only(sent, 'hits', users))).toBe(1)
    expect(int64(only(sent, 'misses', users))).toBe(2)
    expect(int64(only(sent, 'sets', users))).toBe(2)
    expect(int64(only(sent, 'deletes', users))).toBe(1)

    for (const ts of sent) {
      expect(ts.resource).toEqual(GLOBAL)
      const { startTime, endTime } = ts.points[0].interval
      const end = timestampMs(endTime)!
      expect(end).toBeGreaterThanOrEqual(before)
      expect(end).toBeLessThanOrEqual(after)
      if (ts.metricKind === 'CUMULATIVE') expect(timestampMs(startTime)).toBe(metrics.startTime)
      else expect(startTime).toBeUndefined()
    }
    for (const type of ['hits', 'misses', 'sets', 'deletes']) {
      const ts = only(sent, type, users)
      expect([ts.metricKind, ts.valueType, ts.unit]).toEqual(['CUMULATIVE', 'INT64', '1'])
    }

    const latency = only(sent, 'operation_latency', { ...users, operation: 'load' })
    expect([latency.metricKind, latency.valueType, latency.unit]).toEqual(['CUMULATIVE', 'DISTRIBUTION', 'ms'])
    const dist = latency.points[0].value.distributionValue!
    expect(dist.count).toBe('2')
    expect(dist.bucketOptions?.explicitBuckets?.bounds).toEqual([...DEFAULT_LATENCY_BOUNDS_MS])
    expect(dist.bucketCounts).toHaveLength(DEFAULT_LATENCY_BOUNDS_MS.length + 1)
    expect(dist.bucketCounts!.reduce((a, b) => a + Number(b), 0)).toBe(2)
    // Each load slept 2 ms: the mean is at least that, and the 2 ms samples fall at or above the 1 ms bound.
    expect(dist.mean).toBeCloseTo(oracle.getStats().latency['users.load'].avgMs, 6)
    expect(dist.mean!).toBeGreaterThanOrEqual(1.5)
    expect(dist.bucketCounts!.slice(0, DEFAULT_LATENCY_BOUNDS_MS.indexOf(1) + 1).map(Number)).toEqual([0, 0, 0, 0])

    const memory = oracle.getStats().memory.users
    const bytes = only(sent, 'memory_bytes', users)
    const entries = only(sent, 'entries', users)
    expect([bytes.metricKind, bytes.valueType, bytes.unit]).toEqual(['GAUGE', 'INT64', 'By'])
    expect([entries.metricKind, entries.valueType, entries.unit]).toEqual(['GAUGE', 'INT64', '1'])
    expect(int64(bytes)).toBe(memory.bytes)
    expect(int64(entries)).toBe(memory.entries)
    expect(memory.bytes).toBeGreaterThan(0)

    // Keys never become labels.
    const labelValues = sent.flatMap((ts) => Object.values(ts.metric.labels ?? {}))
    expect(labelValues.some((v) => v.includes('user:'))).toBe(false)

    // Nothing changed: the next flush sends nothing. One more hit: only that series, same start, later end.
    await metrics.flush()
    expect(fixture.requests).toHaveLength(1)
    await getUser(1)
    await metrics.flush()
    expect(fixture.requests).toHaveLength(2)
    const [hits] = fixture.requests[1].timeSeries
    expect(fixture.requests[1].timeSeries).toHaveLength(1)
    expect(hits.metric).toEqual({ type: `${PREFIX}/hits`, labels: users })
    expect(int64(hits)).toBe(2)
    expect(timestampMs(hits.points[0].interval.startTime)).toBe(metrics.startTime)
    expect(timestampMs(hits.points[0].interval.endTime)!).toBeGreaterThan(timestampMs(only(sent, 'hits', users).points[0].interval.endTime)!)
  })

  test('bg() ticks, stale hits, load errors: counts equal InMemoryMetrics', async () => {
    const metrics = exporter()
    const oracle = new InMemoryMetrics()
    const both = teeMetrics(metrics, oracle)

    let version = 0
    const getFlags = bg(0.05, { key: 'feature_flags', name: 'flags', metrics: both })(async () => ({ version: ++version }))
    await until(() => (oracle.getStats().backgroundRefresh.flags?.success ?? 0) >= 3)
    await bg.shutdown()
    await getFlags()

    class UpstreamError extends Error {
      override name = 'UpstreamError'
    }
    let failNext = true
    const getPrice = cache(0.05, { stale: 60, metrics: both, name: 'prices', key: 'price:{symbol}' })(async (symbol: string) => {
      if (failNext) {
        failNext = false
        throw new UpstreamError(`no price for ${symbol}`)
      }
      return 42
    })
    await expect(getPrice('ACME')).rejects.toThrow(UpstreamError)
    expect(await getPrice('ACME')).toBe(42)
    await sleep(80)
    expect(await getPrice('ACME')).toBe(42) // stale hit, refresh in the background
    await until(() => (oracle.getStats().backgroundRefresh.prices?.success ?? 0) === 1)

    await metrics.flush()
    const sent = fixture.accepted()
    const stats = oracle.getStats()
    const flags = { cache_name: 'flags', instance_id: INSTANCE }
    const prices = { cache_name: 'prices', instance_id: INSTANCE }

    const refreshes = only(sent, 'background_refreshes', { ...flags, status: 'success' })
    expect([refreshes.metricKind, refreshes.valueType]).toEqual(['CUMULATIVE', 'INT64'])
    expect(int64(refreshes)).toBe(stats.backgroundRefresh.flags.success)
    expect(stats.backgroundRefresh.flags.success).toBeGreaterThanOrEqual(3)
    expect(sent.some((ts) => ts.metric.labels?.status === 'failure')).toBe(false)
    expect(int64(only(sent, 'hits', flags))).toBe(stats.caches.flags.hits)
    expect(int64(only(sent, 'sets', flags))).toBe(stats.caches.flags.sets)

    expect(int64(only(sent, 'errors', { ...prices, operation: 'load', error_type: 'UpstreamError' }))).toBe(1)
    expect(int64(only(sent, 'stale_hits', prices))).toBe(1)
    expect(int64(only(sent, 'hits', prices))).toBe(stats.caches.prices.hits)
    expect(int64(only(sent, 'misses', prices))).toBe(2)
    expect(int64(only(sent, 'background_refreshes', { ...prices, status: 'success' }))).toBe(1)
    expect(Number(only(sent, 'operation_latency', { ...prices, operation: 'load' }).points[0].value.distributionValue!.count)).toBe(
      stats.latency['prices.load'].count,
    )
    for (const ts of sent) expect(JSON.stringify(ts.metric.labels)).not.toContain('ACME')
  })

  test('more than 200 series are split into requests of at most 200', async () => {
    const metrics = exporter()
    const names = Array.from({ length: 130 }, (_, i) => `cache-${i}`)
    for (const name of names) {
      const fn = cache(60, { metrics, name })(async () => name)
      await fn() // a miss, a set, a load latency and the memory gauges: 5 series per cache
      await fn() // a hit: 6
    }
    await metrics.flush()

    // Requests go out concurrently: their arrival order is not fixed.
    const sizes = fixture.requests.map((r) => r.timeSeries.length).sort((a, b) => b - a)
    expect(fixture.requests.every((r) => r.code === grpc.status.OK)).toBe(true)
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(names.length * 6)
    expect(sizes).toEqual([200, 200, 200, 180])
    const keys = new Set(fixture.accepted().map((ts) => JSON.stringify([ts.metric.type, ts.metric.labels])))
    expect(keys.size).toBe(names.length * 6)
    for (const name of names) expect(int64(only(fixture.accepted(), 'hits', { cache_name: name, instance_id: INSTANCE }))).toBe(1)
  })

  test('resource, instanceId: null and metricPrefix are honoured; long cache names are cut to 1024 bytes', async () => {
    const resource = { type: 'generic_task', labels: { project_id: PROJECT, location: 'global', namespace: 'api', job: 'web', task_id: '7' } }
    const metrics = exporter({ resource, instanceId: null, metricPrefix: 'custom.googleapis.com/myapp/cache' })
    const longName = 'é'.repeat(600) // 1200 bytes of UTF-8
    metrics.recordMiss('users')
    metrics.recordMiss(longName)
    await metrics.flush()
    const sent = fixture.accepted()
    expect(sent).toHaveLength(2)
    for (const ts of sent) {
      expect(ts.metric.type).toBe('custom.googleapis.com/myapp/cache/misses')
      expect(ts.resource).toEqual(resource)
    }
    expect(sent[0].metric.labels).toEqual({ cache_name: 'users' })
    expect(sent[1].metric.labels).toEqual({ cache_name: 'é'.repeat(512) })
  })

  test('the default instance_id is <pid>@<hostname>', async () => {
    const metrics = exporter({ instanceId: undefined })
    metrics.recordSet('users')
    await metrics.flush()
    expect(fixture.accepted()[0].metric.labels).toEqual({ cache_name: 'users', instance_id: `${process.pid}@${hostname()}` })
  })
})

describe('failures', () => {
  test('a failed flush is reported once and its data arrives with the next flush', async () => {
    const reports: Array<[unknown, FlushErrorInfo]> = []
    const metrics = exporter({ onError: (error, info) => reports.push([error, info]) })
    const getUser = cache(60, { metrics, name: 'users' })(async (id: number) => ({ id }))
    await getUser(1)
    await getUser(1)

    fixture.failNext(1, grpc.status.UNAVAILABLE, 'backend unavailable')
    await expect(metrics.flush()).resolves.toBeUndefined()
    expect(fixture.requests).toHaveLength(1) // no hidden retry by the client
    expect(fixture.requests[0].code).toBe(grpc.status.UNAVAILABLE)
    expect(reports).toHaveLength(1)
    const [error, info] = reports[0]
    expect((error as { code: number }).code).toBe(grpc.status.UNAVAILABLE)
    const failedCount = fixture.requests[0].timeSeries.length
    expect(info).toEqual({ operation: 'flush', failedSeries: failedCount, series: failedCount, failedRequests: 1, requests: 1, consecutiveFailures: 1 })

    // Traffic keeps flowing while the backend is down; the cache path never sees the failure.
    await getUser(1)
    await getUser(2)
    await metrics.flush()
    expect(reports).toHaveLength(1)
    expect(fixture.requests).toHaveLength(2)
    expect(fixture.requests[1].code).toBe(grpc.status.OK)
    const sent = fixture.requests[1].timeSeries
    const users = { cache_name: 'users', instance_id: INSTANCE }
    // Everything the failed flush carried is there, with what happened since.
    expect(sent).toHaveLength(failedCount)
    expect(int64(only(sent, 'hits', users))).toBe(2)
    expect(int64(only(sent, 'misses', users))).toBe(2)
    expect(int64(only(sent, 'sets', users))).toBe(2)
    expect(only(sent, 'operation_latency', { ...users, operation: 'load' }).points[0].value.distributionValue!.count).toBe('2')
    expect(timestampMs(only(sent, 'hits', users).points[0].interval.startTime)).toBe(metrics.startTime)
  })

  test('without onError the logger warns at most once a minute, counting what it held back', async () => {
    const warnings: Array<[string, unknown]> = []
    const metrics = exporter({ logger: { warn: (message, error) => warnings.push([message, error]) } })
    fixture.failNext(3, grpc.status.PERMISSION_DENIED, 'no write permission')
    for (let i = 0; i < 3; i++) {
      metrics.recordHit('users')
      await metrics.flush()
    }
    expect(fixture.requests.map((r) => r.code)).toEqual([7, 7, 7])
    expect(warnings).toHaveLength(1)
    expect(warnings[0][0]).toMatch(/Cloud Monitoring flush failed for 1 of 1 series; they are retried on the next flush/)
    expect((warnings[0][1] as { code: number }).code).toBe(grpc.status.PERMISSION_DENIED)
    await metrics.flush()
    expect(fixture.requests[3].code).toBe(grpc.status.OK)
    expect(int64(fixture.requests[3].timeSeries[0])).toBe(3)
  })

  test('a throwing onError and a dead server never reject flush() or close()', async () => {
    const metrics = exporter({
      onError: () => {
        throw new Error('handler bug')
      },
    })
    metrics.recordMiss('users')
    await fixture.stop()
    await expect(metrics.flush()).resolves.toBeUndefined()
    await expect(metrics.close()).resolves.toBeUndefined()
  })
})

describe('timer, close and write rate', () => {
  test('the unref-ed timer flushes every flushInterval; close() flushes once more and stops it', async () => {
    const metrics = exporter({ flushInterval: '200ms' })
    const timer = (metrics as unknown as { timer: NodeJS.Timeout }).timer
    expect(timer.hasRef()).toBe(false)
    metrics.recordHit('users')
    await until(() => fixture.requests.length === 1)
    expect(int64(fixture.requests[0].timeSeries[0])).toBe(1)

    metrics.recordHit('users')
    const closing = metrics.close()
    expect(metrics.close()).toBe(closing)
    await closing
    const afterClose = fixture.requests.length
    expect(int64(fixture.requests.at(-1)!.timeSeries[0])).toBe(2)

    metrics.recordHit('users')
    await sleep(700)
    await metrics.flush()
    await metrics.close()
    expect(fixture.requests).toHaveLength(afterClose)
  })

  test('a series is written at most once per minPointInterval; close() waits for the gap rather than drop the point', async () => {
    await fixture.stop()
    await client.close()
    fixture = await MonitoringFixture.start({ minPointIntervalMs: 1000 })
    client = connect(fixture.port)
    const metrics = exporter({ minPointInterval: 1 })
    metrics.recordHit('users')
    await metrics.flush()
    metrics.recordHit('users')
    metrics.recordMiss('users')
    await metrics.flush() // hits was written just now: only misses goes
    expect(fixture.requests.map((r) => r.timeSeries.map((ts) => ts.metric.type.split('/').pop()))).toEqual([['hits'], ['misses']])

    const t0 = Date.now()
    await metrics.close()
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700)
    expect(fixture.requests.every((r) => r.code === grpc.status.OK)).toBe(true)
    const points = fixture.points(`${PREFIX}/hits`, { cache_name: 'users', instance_id: INSTANCE })
    expect(points.map(int64)).toEqual([1, 2])
    const [first, second] = points.map((ts) => timestampMs(ts.points[0].interval.endTime)!)
    expect(second - first).toBeGreaterThanOrEqual(1000)
  })

  test('the fixture rejects points closer than its sampling period (so the test above can fail)', async () => {
    await fixture.stop()
    await client.close()
    fixture = await MonitoringFixture.start({ minPointIntervalMs: 1000 })
    client = connect(fixture.port)
    const reports: FlushErrorInfo[] = []
    const metrics = exporter({ minPointInterval: 0, onError: (_e, info) => reports.push(info) })
    metrics.recordHit('users')
    await metrics.flush()
    metrics.recordHit('users')
    await metrics.flush()
    expect(fixture.requests.map((r) => r.code)).toEqual([grpc.status.OK, grpc.status.INVALID_ARGUMENT])
    expect(reports).toHaveLength(1)
  })

  test('a close() right after construction still writes cumulative points with end > start', async () => {
    const metrics = exporter()
    metrics.recordHit('users')
    await metrics.close()
    const [ts] = fixture.accepted()
    expect(timestampMs(ts.points[0].interval.endTime)!).toBeGreaterThan(timestampMs(ts.points[0].interval.startTime)!)
  })
})

describe('no metadata server', () => {
  // Run in a plain node child process: inside jest's VM gaxios cannot even load its fetch, so a
  // probe would fail before reaching the network and the tripwire would prove nothing.
  let tripwire: MetadataTripwire

  beforeEach(async () => {
    tripwire = await MetadataTripwire.start()
  })

  afterEach(async () => {
    await tripwire.stop()
  })

  async function runChild(mode: 'exporter' | 'bare'): Promise<{ errors: string[] }> {
    const env: NodeJS.ProcessEnv = { ...process.env, GCE_METADATA_HOST: tripwire.host }
    delete env.GCE_METADATA_IP
    delete env.METADATA_SERVER_DETECTION
    delete env.GOOGLE_APPLICATION_CREDENTIALS
    delete env.NODE_OPTIONS
    const support = join(__dirname, 'support')
    const { stdout } = await execFileAsync(
      process.execPath,
      // `require` (not a path argument): the package is "type": "module", so node would load a .ts entry as ESM.
      ['-r', join(support, 'swc-register.cjs'), '-e', `require(${JSON.stringify(join(support, 'metadata-probe-child.ts'))})`, mode, String(fixture.port), PROJECT],
      { env, timeout: 60_000 },
    )
    return JSON.parse(stdout.trim().split('\n').at(-1)!)
  }

  test('the client the exporter builds from clientOptions never calls the metadata server', async () => {
    const { errors } = await runChild('exporter')
    expect(errors).toEqual([])
    expect(int64(only(fixture.accepted(), 'hits', { cache_name: 'users', instance_id: 'child' }))).toBe(1)
    expect(tripwire.hits).toEqual([])
  })

  test('control: a client without universeDomain does probe it (the tripwire works)', async () => {
    await runChild('bare')
    expect(tripwire.hits.length).toBeGreaterThan(0)
  })
})

describe('options', () => {
  const base = { projectId: PROJECT, client: { createTimeSeries: async () => [{}] } }
  test.each([
    [{ projectId: '' }, /"projectId"/],
    [{ projectId: 'a/b' }, /"projectId"/],
    [{ ...base, flushInterval: '5 parsecs' }, /flushInterval/],
    [{ ...base, flushInterval: 0 }, /"flushInterval"/],
    [{ ...base, flushInterval: 30 * 86400 }, /"flushInterval"/],
    [{ ...base, minPointInterval: -1 }, /minPointInterval/],
    [{ ...base, client: {} }, /"client"/],
    [{ ...base, clientOptions: {} }, /"client" or option "clientOptions"/],
    [{ projectId: PROJECT, clientOptions: 'x' }, /"clientOptions"/],
    [{ ...base, metricPrefix: 'custom.googleapis.com/acache/' }, /"metricPrefix"/],
    [{ ...base, resource: { labels: {} } }, /"resource"/],
    [{ ...base, resource: { type: 'global', labels: { project_id: 1 } } }, /"resource"/],
    [{ ...base, instanceId: '' }, /"instanceId"/],
    [{ ...base, latencyBoundsMs: [1, 1, 2] }, /"latencyBoundsMs"/],
    [{ ...base, latencyBoundsMs: [] }, /"latencyBoundsMs"/],
    [{ ...base, onError: 'raise' }, /"onError"/],
    [{ ...base, logger: {} }, /"logger"/],
    [{ ...base, flushEvery: 5 }, /unknown option "flushEvery"/],
  ])('%j throws a TypeError naming the option', (options, message) => {
    expect(() => new GCPCloudMonitoringMetrics(options as unknown as GCPCloudMonitoringMetricsOptions)).toThrow(TypeError)
    expect(() => new GCPCloudMonitoringMetrics(options as unknown as GCPCloudMonitoringMetricsOptions)).toThrow(message)
  })

  test('no options at all is a TypeError', () => {
    expect(() => new (GCPCloudMonitoringMetrics as unknown as new () => unknown)()).toThrow(/projectId/)
  })

  test('custom latency bounds shape the distribution', async () => {
    const metrics = exporter({ latencyBoundsMs: [1, 10] })
    for (const seconds of [0.0005, 0.001, 0.005, 0.05, -1, Number.NaN]) metrics.recordLatency('users', 'get', seconds)
    await metrics.flush()
    const dist = fixture.accepted()[0].points[0].value.distributionValue!
    expect(dist.bucketOptions?.explicitBuckets?.bounds).toEqual([1, 10])
    expect(dist.bucketCounts).toEqual(['1', '2', '1'])
    expect(dist.count).toBe('4')
    expect(dist.mean).toBeCloseTo((0.5 + 1 + 5 + 50) / 4, 9)
    const mean = (0.5 + 1 + 5 + 50) / 4
    expect(dist.sumOfSquaredDeviation).toBeCloseTo([0.5, 1, 5, 50].reduce((a, x) => a + (x - mean) ** 2, 0), 6)
  })
})
