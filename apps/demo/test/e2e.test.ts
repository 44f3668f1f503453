/**
 * End to end, default setup (no external service): the built demo in a child process with a
 * temporary data directory — memory L1 + LocalFileCache L2, the writer process sharing a
 * directory. Drives every endpoint over HTTP and checks responses, /stats and /metrics.
 */
import { existsSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { alive, get, post, runCli, sample, startDemoProcess, waitFor, type DemoProcess } from './support/demo-process.js'

let demo: DemoProcess
const stats = async () => (await get(`${demo.url}stats`)).body
const calls = async (endpoint: string): Promise<number> => (await stats()).upstream.endpoints[endpoint]?.calls ?? 0
const cacheStats = async (name: string) => (await stats()).metrics.caches[name] ?? { hits: 0, misses: 0, sets: 0, deletes: 0, staleHits: 0 }
const refreshes = async (name: string) => (await stats()).metrics.backgroundRefresh[name] ?? { success: 0, failure: 0 }

beforeAll(async () => {
  demo = await startDemoProcess()
})

afterAll(async () => {
  await demo?.stop()
})

describe('TTL endpoint (/api/products/:id)', () => {
  test('the second call is a hit: same value, one upstream call, counted in /stats', async () => {
    const first = await get(`${demo.url}api/products/42`)
    const second = await get(`${demo.url}api/products/42`)
    expect(first.status).toBe(200)
    expect(first.body.data).toMatchObject({ id: 42, version: 1 })
    expect(second.body.data).toEqual(first.body.data)
    expect(await calls('catalog')).toBe(1)
    expect(await cacheStats('product')).toMatchObject({ hits: 1, misses: 1, sets: 1 })
    // the miss waited for the 20–40 ms upstream; the hit did not
    expect(first.body.servedInMs).toBeGreaterThanOrEqual(15)
    expect(second.body.servedInMs).toBeLessThan(first.body.servedInMs)
    // written through to the file tier
    expect(existsSync(join(demo.dataDir, 'cache', 'k-product%3a42.acache'))).toBe(true)
  })

  test('invalidation: the next call reloads from the upstream', async () => {
    const before = (await get(`${demo.url}api/products/42`)).body.data
    const inv = await post(`${demo.url}api/products/42/invalidate`)
    expect(inv).toMatchObject({ status: 200, body: { invalidated: 'product:42' } })
    expect(existsSync(join(demo.dataDir, 'cache', 'k-product%3a42.acache'))).toBe(false)
    const after = (await get(`${demo.url}api/products/42`)).body.data
    expect(after.version).toBe(before.version + 1)
    expect(after.loadedAt).not.toBe(before.loadedAt)
    expect(await calls('catalog')).toBe(2)
    expect((await cacheStats('product')).deletes).toBe(1)
  })

  test('refresh skips the cache and restarts the TTL', async () => {
    const before = (await get(`${demo.url}api/products/42`)).body.data
    const refreshed = await post(`${demo.url}api/products/42/refresh`)
    expect(refreshed.body.data.version).toBe(before.version + 1)
    expect((await get(`${demo.url}api/products/42`)).body.data).toEqual(refreshed.body.data)
  })

  test('tiers: after the 5 s L1 cap the entry comes from the file tier, not the upstream', async () => {
    const first = (await get(`${demo.url}api/products/7`)).body.data
    const catalog = await calls('catalog')
    const fileBefore = await cacheStats('tier:file')
    await new Promise((r) => setTimeout(r, 5600))
    const again = (await get(`${demo.url}api/products/7`)).body.data
    expect(again).toEqual(first)
    expect(await calls('catalog')).toBe(catalog)
    const fileAfter = await cacheStats('tier:file')
    expect(fileAfter.hits).toBe(fileBefore.hits + 1)
    const s = await stats()
    expect(s.setup.tiers.map((t: { kind: string }) => t.kind)).toEqual(['memory', 'file'])
    expect(s.setup.composition).toBe('ChainCache')
  })
})

describe('SWR endpoint (/api/prices/:symbol)', () => {
  test('after the 3 s TTL the stale value is served at once while one refresh runs', async () => {
    const first = (await get(`${demo.url}api/prices/ACME`)).body.data
    expect(first).toMatchObject({ symbol: 'ACME', version: 1 })
    await new Promise((r) => setTimeout(r, 3300))
    const okBefore = (await refreshes('price')).success
    // a slow refresh (300–400 ms) makes the window in which stale values are served obvious
    await post(`${demo.url}upstream?latencyMs=300-400`)
    try {
      const stale = await Promise.all([1, 2, 3].map(() => get(`${demo.url}api/prices/acme`)))
      for (const r of stale) {
        expect(r.body.data).toEqual(first) // the stale value, not a new one…
        expect(r.body.servedInMs).toBeLessThan(100) // …at once, without waiting for the refresh
      }
      expect((await cacheStats('price')).staleHits).toBe(3)
      await waitFor('the SWR refresh', async () => (await refreshes('price')).success > okBefore)
    } finally {
      await post(`${demo.url}upstream?latencyMs=20-40`)
    }
    expect(await calls('pricing')).toBe(2) // three stale reads, one refresh
    const fresh = (await get(`${demo.url}api/prices/ACME`)).body.data
    expect(fresh.version).toBe(2)
  })

  test('a failed refresh keeps the stale value and is counted as a failure', async () => {
    await get(`${demo.url}api/prices/HOOLI`)
    await post(`${demo.url}upstream?failureRate=1`)
    try {
      await new Promise((r) => setTimeout(r, 3300))
      const failedBefore = (await refreshes('price')).failure
      const r = await get(`${demo.url}api/prices/HOOLI`)
      expect(r.status).toBe(200)
      expect(r.body.data).toMatchObject({ symbol: 'HOOLI', version: expect.any(Number) })
      await waitFor('the failed refresh', async () => (await refreshes('price')).failure > failedBefore)
      expect((await get(`${demo.url}api/prices/HOOLI`)).body.data).toEqual(r.body.data)
      // a miss while the upstream is down is an error for the caller (nothing stale to serve)
      const miss = await get(`${demo.url}api/products/999`)
      expect(miss.status).toBe(502)
      expect(miss.body.error).toMatch(/503 Service Unavailable/)
    } finally {
      await post(`${demo.url}upstream?failureRate=0`)
    }
    const metrics = (await get(`${demo.url}metrics`)).body as string
    expect(sample(metrics, 'acache_demo_errors_total', { cache_name: 'product', operation: 'load', error_type: 'UpstreamError' })).toBe(1)
    expect(sample(metrics, 'acache_demo_background_refresh_total', { cache_name: 'price', status: 'failure' })).toBeGreaterThanOrEqual(1)
  })
})

describe('refresh-ahead endpoint (/api/forecast/:city)', () => {
  test('refreshed in the background before expiry: callers never wait again', async () => {
    const first = await get(`${demo.url}api/forecast/oslo`)
    expect(first.body.data).toMatchObject({ city: 'oslo', version: 1 })
    const okBefore = (await refreshes('forecast')).success
    // refresh at 60% of the 6 s TTL, while the key is being read
    const refreshed = await waitFor(
      'the refresh-ahead',
      async () => {
        const r = await get(`${demo.url}api/forecast/oslo`)
        return r.body.data.version > 1 ? r : undefined
      },
      15_000,
      250,
    )
    expect((await refreshes('forecast')).success).toBeGreaterThan(okBefore)
    expect(refreshed.body.servedInMs).toBeLessThan(20) // a cache read, not a 20–40 ms upstream call
    expect((await cacheStats('forecast')).misses).toBe(1) // only the very first call missed
  })
})

describe('bg endpoint (/api/flags)', () => {
  test('every call is a local read; the loader runs on its 5 s timer', async () => {
    const a = await get(`${demo.url}api/flags`)
    const b = await get(`${demo.url}api/flags`)
    expect(a.status).toBe(200)
    expect(a.body.data).toMatchObject({ recommendations: true, version: expect.any(Number) })
    expect(b.body.servedInMs).toBeLessThan(20)
    const version = a.body.data.version
    await waitFor('a bg tick', async () => (await get(`${demo.url}api/flags`)).body.data.version > version, 15_000, 250)
    expect((await refreshes('flags')).success).toBeGreaterThanOrEqual(1)
    expect(await calls('config')).toBeGreaterThanOrEqual(2)
  })
})

describe('bg.write / bg.read between two processes (/api/shared-rates)', () => {
  test('the server mirrors what the writer process writes into the shared directory', async () => {
    const s = await stats()
    expect(s.writer).toMatchObject({ enabled: true, alive: true, store: 'file' })
    const writerPid = s.writer.pid as number
    expect(writerPid).not.toBe(demo.pid)
    expect(alive(writerPid)).toBe(true)
    const first = await waitFor('a shared value', async () => {
      const r = await get(`${demo.url}api/shared-rates`)
      return r.status === 200 ? r.body.data : undefined
    })
    expect(first).toMatchObject({ writerPid, base: 'EUR', rates: { USD: expect.any(Number) } })
    expect(existsSync(join(demo.dataDir, 'shared', 'k-exchange_rates.acache'))).toBe(true)
    // the writer keeps writing (every 2 s) and the mirror follows (every 1 s)
    await waitFor('a newer shared value', async () => (await get(`${demo.url}api/shared-rates`)).body.data.seq > first.seq, 15_000, 250)
    // its refreshes reach the server's metrics over IPC
    expect((await refreshes('writer')).success).toBeGreaterThanOrEqual(2)
    const metrics = (await get(`${demo.url}metrics`)).body as string
    expect(sample(metrics, 'acache_demo_background_refresh_total', { cache_name: 'writer', status: 'success' })).toBeGreaterThanOrEqual(2)
  })
})

describe('/metrics and /stats', () => {
  test('/metrics has every acache metric, with the counts /stats has', async () => {
    await get(`${demo.url}api/products/500`)
    await get(`${demo.url}api/products/500`)
    await new Promise((r) => setTimeout(r, 1200)) // a sampler tick records the L1 memory gauge
    const res = await fetch(`${demo.url}metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await res.text()
    const s = await stats()
    for (const name of [
      'acache_demo_hits_total',
      'acache_demo_misses_total',
      'acache_demo_stale_hits_total',
      'acache_demo_sets_total',
      'acache_demo_deletes_total',
      'acache_demo_errors_total',
      'acache_demo_background_refresh_total',
      'acache_demo_operation_duration_seconds',
      'acache_demo_memory_bytes',
      'acache_demo_entries',
    ]) {
      expect(text).toContain(`# TYPE ${name} `)
    }
    const product = s.metrics.caches.product
    expect(sample(text, 'acache_demo_hits_total', { cache_name: 'product' })).toBe(product.hits)
    expect(sample(text, 'acache_demo_misses_total', { cache_name: 'product' })).toBe(product.misses)
    expect(sample(text, 'acache_demo_sets_total', { cache_name: 'product' })).toBe(product.sets)
    expect(sample(text, 'acache_demo_deletes_total', { cache_name: 'product' })).toBe(1)
    expect(sample(text, 'acache_demo_stale_hits_total', { cache_name: 'price' })).toBe(s.metrics.caches.price.staleHits)
    expect(sample(text, 'acache_demo_hits_total', { cache_name: 'tier:memory' })).toBe(s.metrics.caches['tier:memory'].hits)
    expect(sample(text, 'acache_demo_operation_duration_seconds_count', { cache_name: 'product', operation: 'load' })).toBe(s.metrics.latency['product.load'].count)
    expect(sample(text, 'acache_demo_entries', { cache_name: 'tier:memory' })).toBeGreaterThan(0)
    expect(sample(text, 'acache_demo_memory_bytes', { cache_name: 'tier:memory' })).toBeGreaterThan(0)
    expect(sample(text, 'demo_http_requests_total', { route: '/api/products/:id', status: '200' })).toBeGreaterThanOrEqual(8)
  })

  test('/stats history and counters move with traffic; the load generator drives it', async () => {
    const before = await stats()
    expect(before.load.running).toBe(false)
    const started = await post(`${demo.url}load/start?rps=40`)
    expect(started.body).toMatchObject({ running: true, rps: 40 })
    try {
      await waitFor('load traffic in the history', async () => {
        const s = await stats()
        return s.http.requests >= before.http.requests + 60 && s.history.some((p: any) => p.t > before.now && p.requests > 10)
      })
      const s = await stats()
      const point = s.history.filter((p: any) => p.t > before.now && p.requests > 10).pop()
      expect(point.functions.product.reads).toBeGreaterThan(0)
      expect(point.functions.product.hitRate).toBeGreaterThanOrEqual(0)
      expect(point.tiers['tier:memory'].reads).toBeGreaterThan(0)
      expect(point.calls.p50Ms).toBeGreaterThan(0)
      expect(point.calls.p99Ms).toBeGreaterThanOrEqual(point.calls.p50Ms)
      expect(s.metrics.caches.product.hits).toBeGreaterThan(before.metrics.caches.product.hits)
      // only the history after `since` is sent
      const since = await get(`${demo.url}stats?since=${point.t}`)
      expect(since.body.history.every((p: any) => p.t > point.t)).toBe(true)
    } finally {
      expect((await post(`${demo.url}load/stop`)).body.running).toBe(false)
    }
    const sent = (await stats()).load.sent
    await new Promise((r) => setTimeout(r, 400))
    expect((await stats()).load.sent).toBe(sent)
  })

  test('polling /stats (as the dashboard does) does not count as reads of the functions', async () => {
    const before = (await stats()).metrics.caches
    await stats()
    await stats()
    const after = (await stats()).metrics.caches
    for (const name of ['product', 'price', 'forecast', 'flags', 'shared-rates']) {
      expect(after[name]?.hits).toBe(before[name]?.hits)
      expect(after[name]?.misses).toBe(before[name]?.misses)
    }
  })

  test('bad requests get clear errors', async () => {
    expect(await get(`${demo.url}api/products/abc`)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/product id/) } })
    expect(await get(`${demo.url}nope`)).toMatchObject({ status: 404 })
    expect(await post(`${demo.url}api/products/1`)).toMatchObject({ status: 405 })
    expect(await post(`${demo.url}upstream?failureRate=2`)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/failureRate/) } })
    expect(await post(`${demo.url}load/start?rps=0`)).toMatchObject({ status: 400 })
    expect((await stats()).load.running).toBe(false)
  })

  test('the dashboard and its files are served', async () => {
    const page = await get(`${demo.url}`)
    expect(page.status).toBe(200)
    expect(page.body).toContain('<canvas id="chart-fn-hit"')
    expect((await get(`${demo.url}dashboard.js`)).status).toBe(200)
    expect((await get(`${demo.url}dashboard.css`)).status).toBe(200)
  })

  test('clearing every tier makes every function reload', async () => {
    await get(`${demo.url}api/products/77`)
    const catalog = await calls('catalog')
    expect((await post(`${demo.url}api/cache/clear`)).body.cleared).toEqual(['memory', 'file'])
    await get(`${demo.url}api/products/77`)
    expect(await calls('catalog')).toBe(catalog + 1)
  })
})

describe('process', () => {
  test('SIGTERM stops the server and its writer process', async () => {
    const other = await startDemoProcess()
    const writerPid = await waitFor('the writer pid', async () => (await get(`${other.url}stats`)).body.writer.pid as number)
    expect(alive(writerPid)).toBe(true)
    expect(await other.stop()).toBe(0)
    expect(other.output()).toContain('acache demo: stopped')
    await waitFor('the writer to exit', () => !alive(writerPid), 5000)
  })

  test('bad flags exit with status 2 and a message naming the flag; --help prints usage', async () => {
    const bad = await runCli(['--failure-rate', '7'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--failure-rate must be a number from 0 to 1/)
    const unknown = await runCli(['--bogus'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/unknown option "--bogus"/)
    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/--load\s/)
    expect(help.stdout).toMatch(/REDIS_URL/)
  })

  test('a port already in use is a clear start-up error', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()))
    try {
      const { port } = blocker.address() as AddressInfo
      const res = await runCli(['--port', String(port), '--no-writer', '--data-dir', join(demo.dataDir, 'unused')])
      expect(res.code).toBe(1)
      expect(res.stderr).toMatch(/failed to start: listen EADDRINUSE/)
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })

  test('--load starts the load generator at boot; --reset empties the data directory', async () => {
    const first = await startDemoProcess({ args: ['--no-writer'] })
    try {
      await get(`${first.url}api/products/3`)
      expect(existsSync(join(first.dataDir, 'cache', 'k-product%3a3.acache'))).toBe(true)
    } finally {
      await first.child.kill('SIGTERM')
      await new Promise((r) => first.child.once('exit', r))
    }
    const second = await startDemoProcess({ dataDir: first.dataDir, args: ['--load', '--load-rps', '30', '--reset', '--no-writer'] })
    try {
      expect(existsSync(join(first.dataDir, 'cache', 'k-product%3a3.acache'))).toBe(false)
      const s = (await get(`${second.url}stats`)).body
      expect(s.load).toMatchObject({ running: true, rps: 30 })
      expect(s.writer).toEqual({ enabled: false })
      await waitFor('load requests', async () => (await get(`${second.url}stats`)).body.load.ok > 10)
    } finally {
      await second.stop()
      rmSync(first.dataDir, { recursive: true, force: true })
    }
  })
})
