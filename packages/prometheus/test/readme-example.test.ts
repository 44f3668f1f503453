// The README example, run: cache() and bg() feeding the global registry, served on /metrics over loopback.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { bg, cache } from '@acache/core'
import { register } from 'prom-client'
import { PrometheusMetrics } from '../src/index.js'
import { parseExposition, series } from './support/exposition.js'

afterEach(async () => {
  await bg.shutdown()
  for (const m of await register.getMetricsAsJSON()) if (m.name.startsWith('myapp_cache_')) register.removeSingleMetric(m.name)
})

test('the /metrics handler of the README serves the cache metrics', async () => {
  const metrics = new PrometheusMetrics({ namespace: 'myapp', subsystem: 'cache' })
  const users = new Map([[1, { id: 1, name: 'Ada' }]])
  const getUser = cache(60, { metrics, name: 'users', stale: 30 })(async (id: number) => users.get(id))
  const flags = bg(300, { key: 'feature_flags', name: 'flags', metrics })(async () => ({ darkMode: true }))

  const server = http.createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('Content-Type', metrics.registry.contentType)
      res.end(await metrics.registry.metrics())
      return
    }
    const user = await getUser(1)
    res.end(JSON.stringify({ user, flags: await flags() }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    for (let i = 0; i < 3; i++) {
      expect(await (await fetch(`${base}/`)).json()).toEqual({ user: { id: 1, name: 'Ada' }, flags: { darkMode: true } })
    }
    const response = await fetch(`${base}/metrics`)
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const samples = parseExposition(await response.text())
    expect(series(samples, 'myapp_cache_hits_total')).toEqual({ 'cache_name=users': 2, 'cache_name=flags': 3 })
    expect(series(samples, 'myapp_cache_misses_total')).toEqual({ 'cache_name=users': 1 })
    expect(series(samples, 'myapp_cache_sets_total')).toEqual({ 'cache_name=users': 1, 'cache_name=flags': 1 })
    expect(series(samples, 'myapp_cache_background_refresh_total')).toEqual({ 'cache_name=flags,status=success': 1 })
    expect(series(samples, 'myapp_cache_entries')).toEqual({ 'cache_name=users': 1, 'cache_name=flags': 1 })
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})
