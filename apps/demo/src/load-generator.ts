/**
 * The built-in load generator: real HTTP requests to the demo's own API (keep-alive, loopback),
 * at a steady rate, with a skewed key distribution like real traffic — a few hot products and
 * many cold ones — plus an occasional invalidation.
 */
import { Agent, request } from 'node:http'
import { CITIES, SYMBOLS } from './cached-functions.js'

/** What the dashboard shows about the load. */
export interface LoadStatus {
  running: boolean
  rps: number
  sent: number
  ok: number
  failed: number
  inFlight: number
  startedAt: number | undefined
}

const PRODUCTS = 400
const MAX_IN_FLIGHT = 64
const TICK_MS = 50

/** A Zipf(s) sampler over 1..n: rank 1 is the hottest. */
function zipf(n: number, s: number): () => number {
  const cdf: number[] = []
  let total = 0
  for (let k = 1; k <= n; k++) cdf.push((total += 1 / k ** s))
  return () => {
    const x = Math.random() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid] < x) lo = mid + 1
      else hi = mid
    }
    return lo + 1
  }
}

/**
 * One request of the mix: 45 % products, 25 % prices, 12 % forecasts, 10 % flags, 7.5 % shared
 * rates, 0.5 % product invalidations.
 *
 * @example
 * nextRequest(() => 7, () => 0.1) // { method: 'GET', path: '/api/products/7' }
 */
export function nextRequest(pickProduct: () => number, random = Math.random): { method: 'GET' | 'POST'; path: string } {
  const r = random() * 100
  if (r < 45) return { method: 'GET', path: `/api/products/${pickProduct()}` }
  if (r < 70) return { method: 'GET', path: `/api/prices/${SYMBOLS[Math.floor(random() * SYMBOLS.length)]}` }
  if (r < 82) return { method: 'GET', path: `/api/forecast/${CITIES[Math.floor(random() * CITIES.length)]}` }
  if (r < 92) return { method: 'GET', path: '/api/flags' }
  if (r < 99.5) return { method: 'GET', path: '/api/shared-rates' }
  return { method: 'POST', path: `/api/products/${pickProduct()}/invalidate` }
}

/**
 * @example
 * const load = new LoadGenerator(60)
 * load.target('http://127.0.0.1:3000/')
 * load.start()
 * load.stop()
 */
export class LoadGenerator {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT })
  private readonly pickProduct = zipf(PRODUCTS, 1.1)
  private timer: NodeJS.Timeout | undefined
  private credit = 0
  private lastTick = 0
  private state: LoadStatus
  private baseUrl: string | undefined

  /** `rps`: requests per second. Call {@link target} before {@link start}. */
  constructor(rps: number) {
    this.state = { running: false, rps, sent: 0, ok: 0, failed: 0, inFlight: 0, startedAt: undefined }
  }

  /** Where to send the requests (the demo's own URL, known once it listens). */
  target(baseUrl: string): void {
    this.baseUrl = baseUrl
  }

  /** Starts (or re-targets) the load; `rps` changes the rate. */
  start(rps?: number): LoadStatus {
    if (this.baseUrl === undefined) throw new Error('LoadGenerator: call target(url) before start()')
    if (rps !== undefined) {
      if (!Number.isFinite(rps) || rps < 1 || rps > 2000) throw new RangeError(`rps must be a number from 1 to 2000, got ${rps}`)
      this.state.rps = rps
    }
    if (this.timer === undefined) {
      this.state.running = true
      this.state.startedAt = Date.now()
      this.credit = 0
      this.lastTick = performance.now()
      this.timer = setInterval(() => this.tick(), TICK_MS)
      this.timer.unref()
    }
    return this.status()
  }

  stop(): LoadStatus {
    clearInterval(this.timer)
    this.timer = undefined
    this.state.running = false
    this.state.startedAt = undefined
    return this.status()
  }

  status(): LoadStatus {
    return { ...this.state }
  }

  /** Stops and closes the keep-alive sockets. */
  close(): void {
    this.stop()
    this.agent.destroy()
  }

  private tick(): void {
    const now = performance.now()
    // Requests owed since the last tick; a stalled event loop does not cause a burst of more than a second's worth.
    this.credit = Math.min(this.credit + ((now - this.lastTick) / 1000) * this.state.rps, this.state.rps)
    this.lastTick = now
    while (this.credit >= 1 && this.state.inFlight < MAX_IN_FLIGHT) {
      this.credit -= 1
      this.send()
    }
  }

  private send(): void {
    const { method, path } = nextRequest(this.pickProduct)
    this.state.sent += 1
    this.state.inFlight += 1
    let settled = false
    const done = (ok: boolean) => {
      if (settled) return
      settled = true
      this.state.inFlight -= 1
      if (ok) this.state.ok += 1
      else this.state.failed += 1
    }
    const req = request(new URL(path, this.baseUrl), { method, agent: this.agent, timeout: 10_000, headers: { 'x-load-generator': '1' } }, (res) => {
      res.resume()
      res.on('end', () => done((res.statusCode ?? 500) < 500))
      res.on('error', () => done(false))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', () => done(false))
    req.end()
  }
}
