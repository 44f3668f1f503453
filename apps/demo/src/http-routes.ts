/**
 * The demo's HTTP API on plain `node:http`: the cached data endpoints, invalidation, `/stats`,
 * `/metrics`, the load generator's and the upstream's controls, and the dashboard's files.
 */
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import type { InMemoryMetrics } from '@acache/core'
import type { Counter, Registry } from 'prom-client'
import type { ActivityLog } from './activity-log.js'
import { CITIES, POLICIES, SYMBOLS, type CachedFunctions } from './cached-functions.js'
import type { LoadGenerator } from './load-generator.js'
import type { MetricsFanOut } from './metrics-fan-out.js'
import type { LatencyWindows, StatsHistory } from './stats-history.js'
import type { Tiers } from './tiers.js'
import { UpstreamError, type SimulatedUpstream, type UpstreamSettings } from './upstream.js'
import type { WriterSupervisor } from './writer-supervisor.js'

/** Everything the handlers use. */
export interface RouteContext {
  fns: CachedFunctions
  tiers: Tiers
  upstream: SimulatedUpstream
  stats: InMemoryMetrics
  metrics: MetricsFanOut
  registry: Registry
  httpRequests: Counter<'route' | 'status'>
  latencies: LatencyWindows
  history: StatsHistory
  load: LoadGenerator
  writer: WriterSupervisor | undefined
  log: ActivityLog
  counters: { requests: number; errors: number }
  publicDir: string
  startedAt: number
  /** Shown on the dashboard: how the demo was started. */
  describe: Record<string, unknown>
}

type Params = Record<string, string>
type Handler = (req: IncomingMessage, res: ServerResponse, params: Params, url: URL) => Promise<number> | number

/** A client error: answered with its status and message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string): number {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
  res.end(body)
  return status
}

function json(res: ServerResponse, status: number, value: unknown): number {
  return send(res, status, JSON.stringify(value), 'application/json; charset=utf-8')
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > 16_384) throw new HttpError(413, 'request body larger than 16 KB')
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') return {}
  try {
    const value: unknown = JSON.parse(text)
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object')
    return value as Record<string, unknown>
  } catch {
    throw new HttpError(400, 'request body must be a JSON object')
  }
}

const productId = (raw: string): number => {
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) throw new HttpError(400, `product id must be a positive integer, got ${JSON.stringify(raw)}`)
  return Number(raw)
}
const symbol = (raw: string): string => {
  if (!/^[A-Za-z]{1,12}$/.test(raw)) throw new HttpError(400, `symbol must be 1–12 letters, got ${JSON.stringify(raw)}`)
  return raw.toUpperCase()
}
const city = (raw: string): string => {
  if (!/^[a-z][a-z-]{0,31}$/i.test(raw)) throw new HttpError(400, `city must be 1–32 letters or dashes, got ${JSON.stringify(raw)}`)
  return raw.toLowerCase()
}

/**
 * Builds the request handler.
 *
 * @example
 * const server = http.createServer(createRequestHandler(context))
 */
export function createRequestHandler(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse) => void {
  const { fns } = ctx

  /** Runs one cached call, times it (for the dashboard's p50/p99 and the `call` histogram) and answers. */
  const serve = async (res: ServerResponse, name: string, call: () => unknown): Promise<number> => {
    const t0 = performance.now()
    let data: unknown
    try {
      data = await call()
    } catch (error) {
      if (error instanceof UpstreamError) return json(res, 502, { error: error.message })
      throw error
    }
    const ms = performance.now() - t0
    ctx.latencies.record(name, ms)
    ctx.metrics.recordLatency(name, 'call', ms / 1000)
    if (data === undefined) return json(res, 503, { error: 'no value yet (the writer has not written one)' })
    return json(res, 200, { data, servedInMs: Math.round(ms * 1000) / 1000 })
  }

  // The load generator's own invalidations are too many to list; people's are shown.
  const invalidated = (req: IncomingMessage, what: string, key: string): { invalidated: string } => {
    if (req.headers['x-load-generator'] === undefined) ctx.log.add('info', `invalidated ${what} (key ${key})`)
    return { invalidated: key }
  }

  const routes: Array<{ method: string; pattern: string; regex: RegExp; handler: Handler }> = []
  const route = (method: string, pattern: string, handler: Handler): void => {
    const regex = new RegExp(`^${pattern.replace(/:(\w+)/g, '(?<$1>[^/]+)')}$`)
    routes.push({ method, pattern, regex, handler })
  }

  // ---- dashboard ------------------------------------------------------------------------------
  const staticFile = (file: string, type: string): Handler => async (_req, res) => send(res, 200, await readFile(join(ctx.publicDir, file)), type)
  route('GET', '/', staticFile('index.html', 'text/html; charset=utf-8'))
  route('GET', '/dashboard.js', staticFile('dashboard.js', 'text/javascript; charset=utf-8'))
  route('GET', '/dashboard.css', staticFile('dashboard.css', 'text/css; charset=utf-8'))
  route('GET', '/favicon.ico', (_req, res) => {
    res.writeHead(204).end()
    return 204
  })
  route('GET', '/healthz', (_req, res) => json(res, 200, { ok: true }))

  // ---- cached data ----------------------------------------------------------------------------
  route('GET', '/api/products/:id', (_req, res, p) => serve(res, 'product', () => fns.product(productId(p.id))))
  route('POST', '/api/products/:id/invalidate', async (req, res, p) => {
    const id = productId(p.id)
    await fns.product.invalidate(id)
    return json(res, 200, invalidated(req, `product ${id}`, fns.product.key(id)))
  })
  route('POST', '/api/products/:id/refresh', async (_req, res, p) => {
    const id = productId(p.id)
    try {
      return json(res, 200, { data: await fns.product.refresh(id) })
    } catch (error) {
      if (error instanceof UpstreamError) return json(res, 502, { error: error.message })
      throw error
    }
  })
  route('GET', '/api/prices/:symbol', (_req, res, p) => serve(res, 'price', () => fns.price(symbol(p.symbol))))
  route('POST', '/api/prices/:symbol/invalidate', async (req, res, p) => {
    const s = symbol(p.symbol)
    await fns.price.invalidate(s)
    return json(res, 200, invalidated(req, `price ${s}`, fns.price.key(s)))
  })
  route('GET', '/api/forecast/:city', (_req, res, p) => serve(res, 'forecast', () => fns.forecast(city(p.city))))
  route('POST', '/api/forecast/:city/invalidate', async (req, res, p) => {
    const c = city(p.city)
    await fns.forecast.invalidate(c)
    return json(res, 200, invalidated(req, `forecast ${c}`, fns.forecast.key(c)))
  })
  route('GET', '/api/flags', (_req, res) => serve(res, 'flags', () => fns.flags()))
  route('GET', '/api/shared-rates', (_req, res) => serve(res, 'shared-rates', () => fns.sharedRates()))
  route('POST', '/api/cache/clear', async (_req, res) => {
    await ctx.tiers.store.clear()
    ctx.log.add('info', `cleared every tier (${ctx.tiers.tiers.map((t) => t.kind).join(', ')})`)
    return json(res, 200, { cleared: ctx.tiers.tiers.map((t) => t.kind) })
  })
  route('GET', '/api', (_req, res) =>
    json(res, 200, {
      endpoints: {
        'GET /api/products/:id': POLICIES.product.description,
        'GET /api/prices/:symbol': POLICIES.price.description,
        'GET /api/forecast/:city': POLICIES.forecast.description,
        'GET /api/flags': POLICIES.flags.description,
        'GET /api/shared-rates': POLICIES.sharedRates.description,
        'POST /api/{products,prices,forecast}/:arg/invalidate': 'delete the key from every tier',
        'POST /api/products/:id/refresh': 'reload now and restart the TTL',
        'POST /api/cache/clear': 'clear every tier',
      },
      symbols: SYMBOLS,
      cities: CITIES,
    }),
  )

  // ---- observability --------------------------------------------------------------------------
  route('GET', '/metrics', async (_req, res) => send(res, 200, await ctx.registry.metrics(), ctx.registry.contentType))
  route('GET', '/stats', async (_req, res, _p, url) => {
    const since = Number(url.searchParams.get('since') ?? 0)
    // sync() reads the shared store without counting a read of the mirror: the dashboard's
    // polling must not show up in the hit rates it draws.
    let shared: unknown
    try {
      shared = await fns.sharedRates.sync()
    } catch {
      shared = undefined
    }
    return json(res, 200, {
      now: Date.now(),
      uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 100) / 10,
      setup: {
        ...ctx.describe,
        composition: ctx.tiers.composition,
        tiers: ctx.tiers.tiers,
        functions: fns.names,
        policies: POLICIES,
      },
      metrics: ctx.stats.getStats(),
      upstream: { ...ctx.upstream.current, endpoints: ctx.upstream.stats(), totals: ctx.upstream.totals() },
      http: { ...ctx.counters },
      load: ctx.load.status(),
      writer: ctx.writer?.status() ?? { enabled: false },
      shared: shared ?? null,
      history: ctx.history.since(Number.isFinite(since) ? since : 0),
      events: ctx.log.since(0).slice(-25),
    })
  })

  // ---- controls -------------------------------------------------------------------------------
  route('POST', '/load/start', async (req, res, _p, url) => {
    const body = await readBody(req)
    const raw = url.searchParams.get('rps') ?? body.rps
    let rps: number | undefined
    if (raw !== undefined && raw !== null) {
      rps = Number(raw)
      if (!Number.isFinite(rps) || rps < 1 || rps > 2000) throw new HttpError(400, `rps must be a number from 1 to 2000, got ${JSON.stringify(raw)}`)
    }
    const wasRunning = ctx.load.status().running
    const status = ctx.load.start(rps)
    if (!wasRunning) ctx.log.add('info', `load generator started (${status.rps} req/s)`)
    return json(res, 200, status)
  })
  route('POST', '/load/stop', (_req, res) => {
    if (ctx.load.status().running) ctx.log.add('info', 'load generator stopped')
    return json(res, 200, ctx.load.stop())
  })
  route('GET', '/upstream', (_req, res) => json(res, 200, ctx.upstream.current))
  route('POST', '/upstream', async (req, res, _p, url) => {
    const body = await readBody(req)
    const update: Partial<UpstreamSettings> = {}
    const failureRate = url.searchParams.get('failureRate') ?? body.failureRate
    if (failureRate !== undefined && failureRate !== null) update.failureRate = Number(failureRate)
    const latency = url.searchParams.get('latencyMs') ?? body.latencyMs
    if (latency !== undefined && latency !== null) {
      const parts = Array.isArray(latency) ? latency : String(latency).split('-')
      update.latencyMs = [Number(parts[0]), Number(parts[1] ?? parts[0])]
    }
    let settings: UpstreamSettings
    try {
      settings = ctx.upstream.configure(update)
    } catch (error) {
      throw new HttpError(400, (error as Error).message)
    }
    ctx.writer?.configureUpstream(settings)
    ctx.log.add('info', `upstream: ${settings.latencyMs[0]}–${settings.latencyMs[1]} ms, ${Math.round(settings.failureRate * 100)}% failures`)
    return json(res, 200, settings)
  })

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo.invalid')
    let pattern = 'unmatched'
    const finish = (status: number) => {
      ctx.httpRequests.inc({ route: pattern, status: String(status) })
      if (pattern.startsWith('/api/')) {
        ctx.counters.requests += 1
        if (status >= 500) ctx.counters.errors += 1
      }
    }
    const run = async (): Promise<number> => {
      let methodMismatch = false
      for (const r of routes) {
        const m = r.regex.exec(url.pathname)
        if (m === null) continue
        if (r.method !== req.method && !(r.method === 'GET' && req.method === 'HEAD')) {
          methodMismatch = true
          continue
        }
        pattern = r.pattern
        const params: Params = {}
        for (const [k, v] of Object.entries(m.groups ?? {})) {
          try {
            params[k] = decodeURIComponent(v)
          } catch {
            throw new HttpError(400, `malformed URL: ${url.pathname}`)
          }
        }
        return r.handler(req, res, params, url)
      }
      return methodMismatch ? json(res, 405, { error: `${req.method} not allowed on ${url.pathname}` }) : json(res, 404, { error: `no route for ${req.method} ${url.pathname}` })
    }
    run().then(finish, (error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500
      if (status === 500) ctx.log.add('warn', `${req.method} ${pattern}: ${(error as Error)?.message ?? String(error)}`)
      if (!res.headersSent) json(res, status, { error: (error as Error)?.message ?? String(error) })
      else res.destroy()
      finish(status)
    })
  }
}
