// The README example, run: a global MeterProvider with a periodic exporting reader, the default
// meter, cache() and bg() traffic; the console exporter swapped for the SDK's in-memory one.
import { bg, cache } from '@acache/core'
import { metrics as otelMetrics } from '@opentelemetry/api'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { DEFAULT_METER_NAME, OpenTelemetryMetrics } from '../src/index.js'
import { values } from './support/collecting-reader.js'

test('the README pipeline exports the cache metrics', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const provider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
  })
  otelMetrics.setGlobalMeterProvider(provider)
  try {
    const metrics = new OpenTelemetryMetrics()
    const users = new Map([[1, { id: 1, name: 'Ada' }]])
    const getUser = cache(60, { metrics, name: 'users', stale: 30 })(async (id: number) => users.get(id))
    const flags = bg(300, { key: 'feature_flags', name: 'flags', metrics })(async () => ({ darkMode: true }))
    for (let i = 0; i < 3; i++) expect(await getUser(1)).toEqual({ id: 1, name: 'Ada' })
    expect(await flags()).toEqual({ darkMode: true })

    await provider.forceFlush()
    const scopes = exporter.getMetrics().at(-1)!.scopeMetrics
    expect(scopes.map((s) => s.scope.name)).toEqual([DEFAULT_METER_NAME])
    const exported = scopes[0].metrics
    expect(values(exported, 'cache.hits')).toEqual({ 'cache.name=users': 2, 'cache.name=flags': 1 })
    expect(values(exported, 'cache.misses')).toEqual({ 'cache.name=users': 1 })
    expect(values(exported, 'cache.background_refresh')).toEqual({ 'cache.name=flags,status=success': 1 })
    expect(values(exported, 'cache.entries')).toEqual({ 'cache.name=users': 1, 'cache.name=flags': 1 })
  } finally {
    await bg.shutdown()
    await provider.shutdown()
    otelMetrics.disable()
  }
})
