/**
 * Puts the demo together: metrics (InMemoryMetrics + Prometheus), the tiers, the cached
 * functions, the writer process, the sampler behind the dashboard's charts, the load generator
 * and the HTTP server — and takes it all down again in order.
 */
import { rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { bg, InMemoryMetrics, type ErrorHandler } from '@acache/core'
import { PrometheusMetrics } from '@acache/prometheus'
import { collectDefaultMetrics, Counter, Registry } from 'prom-client'
import { ActivityLog } from './activity-log.js'
import { createCachedFunctions } from './cached-functions.js'
import type { DemoConfig } from './config.js'
import { createRequestHandler } from './http-routes.js'
import { LoadGenerator } from './load-generator.js'
import { MetricsFanOut } from './metrics-fan-out.js'
import { connectRedis, type DemoRedisClient } from './redis-connection.js'
import { createSharedStore } from './shared-store.js'
import { LatencyWindows, StatsHistory } from './stats-history.js'
import { buildTiers, redact } from './tiers.js'
import { SimulatedUpstream } from './upstream.js'
import { WriterSupervisor } from './writer-supervisor.js'

/** Where the demo's files are. */
export interface DemoPaths {
  /** The dashboard's files. */
  publicDir: string
  /** The writer process's entry (built JavaScript). */
  writerEntry: string
}

/** A running demo. */
export interface DemoApp {
  /** `http://host:port/` */
  url: string
  server: Server
  /** Stops everything (load, sampler, server, writer, bg timers, stores, clients). Idempotent. */
  close(): Promise<void>
}

/** At most one console warning per source and operation per this many ms. */
const WARN_EVERY_MS = 10_000

/**
 * Starts the demo described by `config`.
 *
 * @example
 * const app = await startDemo(parseConfig(process.argv.slice(2), process.env, appRoot), paths)
 * console.log(app.url)
 * await app.close()
 */
export async function startDemo(config: DemoConfig, paths: DemoPaths): Promise<DemoApp> {
  const startedAt = Date.now()
  if (config.reset) rmSync(config.dataDir, { recursive: true, force: true })
  const log = new ActivityLog()
  const lastWarned = new Map<string, number>()
  const warn = (source: string, message: string): void => {
    log.add('warn', `${source}: ${message}`)
    const now = Date.now()
    if ((lastWarned.get(source) ?? 0) + WARN_EVERY_MS <= now) {
      lastWarned.set(source, now)
      console.warn(`[acache-demo] ${source}: ${message}`)
    }
  }
  // Background failures (refreshes, ticks, syncs) and store failures: never the caller's problem,
  // always visible in the activity feed, the metrics and (rate-limited) on the console.
  const onError: ErrorHandler = (error, info) =>
    warn(`${info.cacheName} ${info.operation}`, (error as Error)?.message ?? String(error))

  // ---- metrics ----------------------------------------------------------------------------------
  const stats = new InMemoryMetrics()
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const prometheus = new PrometheusMetrics({ namespace: 'acache', subsystem: 'demo', registry })
  const metrics = new MetricsFanOut(stats, prometheus)
  const httpRequests = new Counter({
    name: 'demo_http_requests_total',
    help: 'HTTP requests served by the demo, by route pattern and status.',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  })

  // ---- stores -----------------------------------------------------------------------------------
  let redis: DemoRedisClient | undefined
  if (config.redisUrl !== undefined) {
    redis = await connectRedis(config.redisUrl, (error) => warn('redis client', error.message))
  }
  const tiers = buildTiers(config, { metrics, onError, redis })
  const shared = createSharedStore({ dataDir: config.dataDir, redis, metrics, onError })

  // ---- the service ------------------------------------------------------------------------------
  const upstream = new SimulatedUpstream({ latencyMs: config.latencyMs, failureRate: config.failureRate })
  const fns = createCachedFunctions({ store: tiers.store, sharedStore: shared.store, metrics, upstream, onError })

  const writer = config.writer
    ? new WriterSupervisor({
        entry: paths.writerEntry,
        settings: { dataDir: config.dataDir, redisUrl: config.redisUrl, upstream: upstream.current },
        metrics,
        onEvent: (level, message) => (level === 'warn' ? warn('writer', message) : log.add('info', message)),
      })
    : undefined

  // ---- the dashboard's time series --------------------------------------------------------------
  const counters = { requests: 0, errors: 0 }
  const latencies = new LatencyWindows()
  const history = new StatsHistory({
    read: () => {
      const s = stats.getStats()
      return { caches: s.caches, backgroundRefresh: s.backgroundRefresh, upstream: upstream.totals(), http: { ...counters } }
    },
    latencies,
    functions: fns.names,
    tiers: tiers.tiers.map((t) => t.metricsName),
  })
  const sampler = setInterval(() => {
    history.sample()
    const usage = tiers.memory.memoryUsage()
    metrics.recordMemoryUsage('tier:memory', usage.bytes, usage.entries)
  }, 1000)
  sampler.unref()

  // ---- HTTP -------------------------------------------------------------------------------------
  const load = new LoadGenerator(config.loadRps)
  const handler = createRequestHandler({
    fns,
    tiers,
    upstream,
    stats,
    metrics,
    registry,
    httpRequests,
    latencies,
    history,
    writer,
    load,
    log,
    counters,
    publicDir: paths.publicDir,
    startedAt,
    describe: {
      dataDir: config.dataDir,
      redis: config.redisUrl !== undefined ? redact(config.redisUrl) : null,
      sharedStore: shared.kind,
      s3: config.s3 ?? null,
      gcs: config.gcs ?? null,
      pid: process.pid,
    },
  })
  const server = createServer({ keepAliveTimeout: 5000 }, handler)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}/`
  load.target(url)
  writer?.start()
  log.add('info', `demo started: ${tiers.tiers.map((t) => t.kind).join(' → ')} (${tiers.composition})`)
  if (config.load) {
    load.start()
    log.add('info', `load generator started (${config.loadRps} req/s)`)
  }

  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      load.close()
      clearInterval(sampler)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await writer?.stop()
      await bg.shutdown()
      shared.close()
      await tiers.close()
      if (redis !== undefined) await redis.close().catch(() => {})
    })())

  return { url, server, close }
}
