import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bg, cache, InMemCache, InstrumentedStorage } from '@acache/core'
import { metrics as otelMetrics } from '@opentelemetry/api'
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics'
import { DEFAULT_DURATION_BUCKETS, DEFAULT_METER_NAME, OpenTelemetryMetrics, VERSION } from '../src/index.js'
import { attributeValues, CollectingReader, metric, values } from './support/collecting-reader.js'
import { advance, useFakeClock } from './support/fake-clock.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A fresh SDK pipeline: a provider with a pull reader, and a collector on its meter. */
function setup(options: { buckets?: number[] } = {}) {
  const reader = new CollectingReader()
  const provider = new MeterProvider({ readers: [reader] })
  const metrics = new OpenTelemetryMetrics({ meter: provider.getMeter('test'), ...options })
  return { reader, provider, metrics }
}

function histogram(metrics: MetricData[], name: string): Record<string, Histogram> {
  const out: Record<string, Histogram> = {}
  const m = metric(metrics, name)
  for (const p of m?.dataPoints ?? []) {
    out[Object.keys(p.attributes).sort().map((k) => `${k}=${String(p.attributes[k])}`).join(',')] = p.value as Histogram
  }
  return out
}

describe('OpenTelemetryMetrics driven by cache() and bg()', () => {
  let provider: MeterProvider | undefined
  useFakeClock(async () => {
    await bg.shutdown()
    await provider?.shutdown()
    provider = undefined
  })

  test('hits, misses, stale hits, sets, deletes, errors, refreshes and load duration of cache()', async () => {
    const pipeline = setup()
    provider = pipeline.provider
    const { reader, metrics } = pipeline
    const store = new InMemCache()
    let fail = false
    const refreshFailures: unknown[] = []
    const getUser = cache(1, {
      metrics,
      name: 'users',
      store,
      stale: 10,
      key: 'user:{0}',
      onError: (error) => refreshFailures.push(error),
    })(async (id: number) => {
      await sleep(3) // 3 ms of fake time: the load duration
      if (fail) throw new RangeError(`user ${id} unavailable`)
      return { id }
    })

    const first = getUser(1) // miss → load → set (+ memory report)
    await advance(0.003)
    await first
    const afterFirstWrite = store.memoryUsage()
    await getUser(1)
    await getUser(1)
    await getUser(1)
    const second = getUser(2)
    await advance(0.003)
    await second
    await advance(1.5) // user:1 stale → stale hit + successful refresh
    await expect(getUser(1)).resolves.toEqual({ id: 1 })
    await advance(0.003)
    fail = true
    await advance(1.5) // user:2 stale → stale hit + failed refresh
    await expect(getUser(2)).resolves.toEqual({ id: 2 })
    await advance(0.003)
    expect(refreshFailures).toHaveLength(1)
    await getUser.invalidate(1)
    const failing = getUser(1) // miss + failing load
    const settled = expect(failing).rejects.toThrow(RangeError)
    await advance(0.003)
    await settled

    const collected = await reader.metrics()
    const users = 'cache.name=users'
    expect(values(collected, 'cache.hits')).toEqual({ [users]: 5 })
    expect(values(collected, 'cache.misses')).toEqual({ [users]: 3 })
    expect(values(collected, 'cache.stale_hits')).toEqual({ [users]: 2 })
    expect(values(collected, 'cache.sets')).toEqual({ [users]: 3 })
    expect(values(collected, 'cache.deletes')).toEqual({ [users]: 1 })
    expect(values(collected, 'cache.errors')).toEqual({ 'cache.name=users,cache.operation=load,error.type=RangeError': 2 })
    expect(values(collected, 'cache.background_refresh')).toEqual({
      'cache.name=users,status=success': 1,
      'cache.name=users,status=failure': 1,
    })
    const duration = metric(collected, 'cache.operation.duration')!
    expect(duration.descriptor.unit).toBe('s')
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM)
    const load = histogram(collected, 'cache.operation.duration')['cache.name=users,cache.operation=load']
    expect(load.count).toBe(3)
    expect(load.sum).toBeCloseTo(0.009, 12)
    expect(load.min).toBeCloseTo(0.003, 12)
    expect(load.max).toBeCloseTo(0.003, 12)
    expect(load.buckets.boundaries).toEqual(DEFAULT_DURATION_BUCKETS)
    const at5ms = DEFAULT_DURATION_BUCKETS.indexOf(0.005) // the bucket (0.0025, 0.005]
    expect(load.buckets.counts[at5ms]).toBe(3)
    expect(load.buckets.counts.reduce((a, b) => a + b, 0)).toBe(3)
    // memory is reported on the first write and then every 128 writes: still the first report
    expect(values(collected, 'cache.memory.usage')).toEqual({ [users]: afterFirstWrite.bytes })
    expect(values(collected, 'cache.entries')).toEqual({ [users]: 1 })

    // attributes are cache names, operations, error classes and statuses — never a key
    expect(attributeValues(collected)).toEqual(new Set(['users', 'load', 'RangeError', 'success', 'failure']))
  })

  test('the memory gauges hold the latest report per cache (replaced, not added)', async () => {
    const pipeline = setup()
    provider = pipeline.provider
    const { reader, metrics } = pipeline
    const store = new InMemCache()
    const item = cache(60, { metrics, name: 'items', store, key: 'item:{0}' })((i: number) => 'x'.repeat(i))
    const other = cache(60, { metrics, name: 'other', key: 'o:{0}' })((i: number) => i)

    item(1)
    other(1)
    let collected = await reader.metrics()
    expect(values(collected, 'cache.entries')).toEqual({ 'cache.name=items': 1, 'cache.name=other': 1 })
    expect(values(collected, 'cache.memory.usage')['cache.name=items']).toBe(store.memoryUsage().bytes)
    expect(metric(collected, 'cache.entries')!.dataPointType).toBe(DataPointType.GAUGE)
    expect(metric(collected, 'cache.memory.usage')!.descriptor.unit).toBe('By')

    for (let i = 2; i <= 129; i++) item(i) // the 129th write reports again
    const usage = store.memoryUsage()
    expect(usage.entries).toBe(129)
    collected = await reader.metrics()
    expect(values(collected, 'cache.entries')).toEqual({ 'cache.name=items': 129, 'cache.name=other': 1 })
    expect(values(collected, 'cache.memory.usage')['cache.name=items']).toBe(usage.bytes)
    // a second collection without new reports reads the same figures again (not a sum of reports)
    collected = await reader.metrics()
    expect(values(collected, 'cache.entries')).toEqual({ 'cache.name=items': 129, 'cache.name=other': 1 })
    expect(values(collected, 'cache.sets')).toEqual({ 'cache.name=items': 129, 'cache.name=other': 1 })
    // synchronous loads take 0 s under a fake clock: all in the first bucket
    const load = histogram(collected, 'cache.operation.duration')['cache.name=items,cache.operation=load']
    expect(load.count).toBe(129)
    expect(load.buckets.counts[0]).toBe(129)
  })

  test('bg(): successful and failing ticks count as background refreshes', async () => {
    const pipeline = setup()
    provider = pipeline.provider
    const { reader, metrics } = pipeline
    const tickErrors: unknown[] = []
    let version = 0
    let failing = false
    const flags = bg(10, { key: 'feature_flags', name: 'flags', metrics, onError: (e) => tickErrors.push(e) })(async () => {
      if (failing) throw new TypeError('config service down')
      return ++version
    })

    await advance(0) // the immediate load
    expect(await flags()).toBe(1)
    await advance(10)
    expect(await flags()).toBe(2)
    failing = true
    await advance(10) // tick 3 fails; the value of t=10 is kept
    expect(await flags()).toBe(2)
    await advance(10) // tick 4 fails; the value of t=10 is dead at t=30
    expect(tickErrors).toHaveLength(2)
    await expect(flags()).rejects.toThrow('config service down')

    const collected = await reader.metrics()
    expect(values(collected, 'cache.background_refresh')).toEqual({
      'cache.name=flags,status=success': 2,
      'cache.name=flags,status=failure': 2,
    })
    expect(values(collected, 'cache.errors')).toEqual({ 'cache.name=flags,cache.operation=load,error.type=TypeError': 3 })
    expect(values(collected, 'cache.hits')).toEqual({ 'cache.name=flags': 3 })
    expect(values(collected, 'cache.misses')).toEqual({ 'cache.name=flags': 1 })
    expect(values(collected, 'cache.sets')).toEqual({ 'cache.name=flags': 2 })
    expect(histogram(collected, 'cache.operation.duration')['cache.name=flags,cache.operation=load'].count).toBe(2)
    expect(values(collected, 'cache.entries')).toEqual({ 'cache.name=flags': 1 })
    expect(attributeValues(collected)).toEqual(new Set(['flags', 'load', 'TypeError', 'success', 'failure']))
  })

  test('InstrumentedStorage: duration per store operation', async () => {
    const pipeline = setup({ buckets: [0.001, 0.01] })
    provider = pipeline.provider
    const { reader, metrics } = pipeline
    const store = new InstrumentedStorage(new InMemCache(), metrics, 'sessions')
    store.get('session:a')
    store.set('session:a', 'alice', 60)
    store.get('session:a')
    store.delete('session:a')
    const collected = await reader.metrics()
    const byOp = histogram(collected, 'cache.operation.duration')
    expect(Object.fromEntries(Object.entries(byOp).map(([k, h]) => [k, h.count]))).toEqual({
      'cache.name=sessions,cache.operation=get': 2,
      'cache.name=sessions,cache.operation=set': 1,
      'cache.name=sessions,cache.operation=delete': 1,
    })
    expect(byOp['cache.name=sessions,cache.operation=get'].buckets.boundaries).toEqual([0.001, 0.01])
    expect(values(collected, 'cache.hits')).toEqual({ 'cache.name=sessions': 1 })
    expect(values(collected, 'cache.misses')).toEqual({ 'cache.name=sessions': 1 })
    expect(attributeValues(collected)).toEqual(new Set(['sessions', 'get', 'set', 'delete']))
  })
})

describe('OpenTelemetryMetrics', () => {
  test('instruments: names, kinds and units', async () => {
    const { reader, provider, metrics } = setup()
    metrics.recordHit('c', true)
    metrics.recordMiss('c')
    metrics.recordSet('c')
    metrics.recordDelete('c')
    metrics.recordError('c', 'get', 'TimeoutError')
    metrics.recordBackgroundRefresh('c', true)
    metrics.recordLatency('c', 'get', 0.002)
    metrics.recordMemoryUsage('c', 2048, 3)
    const collected = await reader.metrics()
    const shape = Object.fromEntries(
      collected.map((m) => [
        m.descriptor.name,
        [DataPointType[m.dataPointType], m.descriptor.unit, 'isMonotonic' in m ? m.isMonotonic : undefined],
      ]),
    )
    expect(shape).toEqual({
      'cache.hits': ['SUM', '{hit}', true],
      'cache.misses': ['SUM', '{miss}', true],
      'cache.stale_hits': ['SUM', '{hit}', true],
      'cache.sets': ['SUM', '{write}', true],
      'cache.deletes': ['SUM', '{delete}', true],
      'cache.errors': ['SUM', '{error}', true],
      'cache.background_refresh': ['SUM', '{refresh}', true],
      'cache.operation.duration': ['HISTOGRAM', 's', undefined],
      'cache.memory.usage': ['GAUGE', 'By', undefined],
      'cache.entries': ['GAUGE', '{entry}', undefined],
    })
    expect(values(collected, 'cache.errors')).toEqual({ 'cache.name=c,cache.operation=get,error.type=TimeoutError': 1 })
    expect(values(collected, 'cache.memory.usage')).toEqual({ 'cache.name=c': 2048 })
    expect(values(collected, 'cache.entries')).toEqual({ 'cache.name=c': 3 })
    await provider.shutdown()
  })

  test('exports through a PeriodicExportingMetricReader on forceFlush()', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
    const provider = new MeterProvider({ readers: [reader] })
    try {
      const metrics = new OpenTelemetryMetrics({ meter: provider.getMeter('app') })
      const double = cache(60, { metrics, name: 'double' })((n: number) => n * 2)
      double(1)
      double(1)
      double(2)
      await reader.forceFlush()
      const exported = exporter.getMetrics().at(-1)!.scopeMetrics.flatMap((s) => s.metrics)
      expect(values(exported, 'cache.hits')).toEqual({ 'cache.name=double': 1 })
      expect(values(exported, 'cache.misses')).toEqual({ 'cache.name=double': 2 })
      expect(values(exported, 'cache.entries')).toEqual({ 'cache.name=double': 1 })
      expect(histogram(exported, 'cache.operation.duration')['cache.name=double,cache.operation=load'].count).toBe(2)
    } finally {
      await provider.shutdown()
    }
  })

  test("defaults to the global provider's meter '@acache/opentelemetry' at this package's version", async () => {
    const reader = new CollectingReader()
    const provider = new MeterProvider({ readers: [reader] })
    otelMetrics.setGlobalMeterProvider(provider)
    try {
      new OpenTelemetryMetrics().recordHit('a')
      new OpenTelemetryMetrics({ meterName: 'my-service', meterVersion: '2.0.0' }).recordHit('b')
      const { resourceMetrics } = await reader.collect()
      const scopes = Object.fromEntries(
        resourceMetrics.scopeMetrics.map((s) => [`${s.scope.name}@${s.scope.version}`, values(s.metrics, 'cache.hits')]),
      )
      expect(scopes).toEqual({
        [`${DEFAULT_METER_NAME}@${VERSION}`]: { 'cache.name=a': 1 },
        'my-service@2.0.0': { 'cache.name=b': 1 },
      })
    } finally {
      otelMetrics.disable()
      await provider.shutdown()
    }
  })

  test('VERSION is the package version', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
    expect(VERSION).toBe(pkg.version)
  })

  test('close() detaches the gauges\' callback; counters keep working', async () => {
    const { reader, provider, metrics } = setup()
    metrics.recordMemoryUsage('c', 100, 1)
    expect(values(await reader.metrics(), 'cache.entries')).toEqual({ 'cache.name=c': 1 })
    metrics.close()
    metrics.close()
    metrics.recordMemoryUsage('c', 200, 2)
    metrics.recordHit('c')
    const collected = await reader.metrics()
    // the callback no longer runs: the report of 2 entries is never observed (a cumulative reader
    // keeps showing the last observed value)
    expect(values(collected, 'cache.entries')).toEqual({ 'cache.name=c': 1 })
    expect(values(collected, 'cache.memory.usage')).toEqual({ 'cache.name=c': 100 })
    expect(values(collected, 'cache.hits')).toEqual({ 'cache.name=c': 1 })
    await provider.shutdown()
  })

  test('two collectors on one meter feed the same instruments', async () => {
    const reader = new CollectingReader()
    const provider = new MeterProvider({ readers: [reader] })
    const meter = provider.getMeter('shared')
    const a = new OpenTelemetryMetrics({ meter })
    const b = new OpenTelemetryMetrics({ meter })
    a.recordHit('users')
    b.recordHit('users', true)
    a.recordMemoryUsage('users', 100, 1)
    b.recordMemoryUsage('orders', 200, 2)
    const collected = await reader.metrics()
    expect(values(collected, 'cache.hits')).toEqual({ 'cache.name=users': 2 })
    expect(values(collected, 'cache.stale_hits')).toEqual({ 'cache.name=users': 1 })
    expect(values(collected, 'cache.entries')).toEqual({ 'cache.name=users': 1, 'cache.name=orders': 2 })
    await provider.shutdown()
  })

  test('non-finite or negative values are ignored, never thrown', async () => {
    const { reader, provider, metrics } = setup()
    for (const bad of [NaN, -1, Infinity]) {
      metrics.recordLatency('c', 'get', bad)
      metrics.recordMemoryUsage('c', bad, bad)
    }
    metrics.recordMemoryUsage('c', 512, NaN)
    metrics.recordLatency('c', 'get', 0)
    const collected = await reader.metrics()
    expect(histogram(collected, 'cache.operation.duration')['cache.name=c,cache.operation=get'].count).toBe(1)
    expect(values(collected, 'cache.memory.usage')).toEqual({ 'cache.name=c': 512 })
    expect(values(collected, 'cache.entries')).toEqual({})
    await provider.shutdown()
  })

  test('options are validated with a TypeError naming the option', () => {
    const meter = new MeterProvider().getMeter('x')
    const make = (options: unknown) => () => new OpenTelemetryMetrics(options as never)
    expect(make(null)).toThrow(TypeError)
    expect(make('meter')).toThrow(TypeError)
    expect(make({ meterName: 'x', prefix: 'y' })).toThrow(/unknown option "prefix"/)
    expect(make({ meter, meterName: 'x' })).toThrow(/option "meter" or options "meterName"\/"meterVersion", not both/)
    expect(make({ meter, meterVersion: '1' })).toThrow(TypeError)
    expect(make({ meter: {} })).toThrow(/option "meter" must be an OpenTelemetry Meter \(missing createCounter, createHistogram/)
    expect(make({ meter: null })).toThrow(/option "meter"/)
    expect(make({ meterName: '' })).toThrow(/option "meterName" must be a non-empty string/)
    expect(make({ meterName: 42 })).toThrow(/option "meterName"/)
    expect(make({ meterVersion: [] })).toThrow(/option "meterVersion"/)
    for (const buckets of [[], [1, 1], [2, 1], [0, 1], [0.1, NaN], 'fine']) {
      expect(make({ meter, buckets })).toThrow(/option "buckets"/)
    }
    expect(make({ meter, buckets: [0.5, 1] })).not.toThrow()
  })
})
