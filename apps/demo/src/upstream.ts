/**
 * A simulated slow, flaky upstream (a catalogue, a pricing API, a config service…): every call
 * waits a random latency in a range and fails with a given probability. It counts its calls per
 * endpoint, which is how the demo and its tests see what the cache saved.
 */

/** What the upstream answered with when it failed. */
export class UpstreamError extends Error {
  override name = 'UpstreamError'
  constructor(readonly endpoint: string) {
    super(`upstream ${endpoint}: 503 Service Unavailable (simulated)`)
  }
}

/** Calls and failures of one upstream endpoint. */
export interface EndpointCounts {
  calls: number
  failures: number
}

/** Latency range (milliseconds) and failure rate (0–1) of a {@link SimulatedUpstream}. */
export interface UpstreamSettings {
  latencyMs: [number, number]
  failureRate: number
}

/**
 * @example
 * const upstream = new SimulatedUpstream({ latencyMs: [50, 200], failureRate: 0.05 })
 * const product = await upstream.call('catalog', (n) => ({ id: 1, version: n }))
 */
export class SimulatedUpstream {
  private settings: UpstreamSettings
  private readonly counts = new Map<string, EndpointCounts>()

  constructor(settings: UpstreamSettings) {
    this.settings = checkSettings(settings)
  }

  /** Current latency range and failure rate. */
  get current(): UpstreamSettings {
    return { latencyMs: [...this.settings.latencyMs], failureRate: this.settings.failureRate }
  }

  /** Changes the latency range and/or failure rate (takes effect on the next call). */
  configure(update: Partial<UpstreamSettings>): UpstreamSettings {
    this.settings = checkSettings({ ...this.settings, ...update })
    return this.current
  }

  /**
   * One call of `endpoint`: waits the simulated latency, then fails with probability
   * `failureRate` (an {@link UpstreamError}) or returns `make(n)`, `n` being this endpoint's
   * call number (1, 2, …) — a version the caller can show.
   */
  async call<T>(endpoint: string, make: (callNumber: number) => T): Promise<T> {
    const counts = this.counts.get(endpoint) ?? { calls: 0, failures: 0 }
    this.counts.set(endpoint, counts)
    const n = ++counts.calls
    const [low, high] = this.settings.latencyMs
    const failing = Math.random() < this.settings.failureRate
    await new Promise((resolve) => setTimeout(resolve, low + Math.random() * (high - low)))
    if (failing) {
      counts.failures += 1
      throw new UpstreamError(endpoint)
    }
    return make(n)
  }

  /** Calls and failures per endpoint so far (a copy). */
  stats(): Record<string, EndpointCounts> {
    return Object.fromEntries([...this.counts].map(([endpoint, c]) => [endpoint, { ...c }]))
  }

  /** Calls and failures of every endpoint added up. */
  totals(): EndpointCounts {
    let calls = 0
    let failures = 0
    for (const c of this.counts.values()) {
      calls += c.calls
      failures += c.failures
    }
    return { calls, failures }
  }
}

function checkSettings(settings: UpstreamSettings): UpstreamSettings {
  const { latencyMs, failureRate } = settings
  if (!Array.isArray(latencyMs) || latencyMs.length !== 2 || !latencyMs.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0) || latencyMs[0] > latencyMs[1]) {
    throw new TypeError(`latencyMs must be [min, max] milliseconds with 0 <= min <= max, got ${JSON.stringify(latencyMs)}`)
  }
  if (typeof failureRate !== 'number' || !(failureRate >= 0 && failureRate <= 1)) {
    throw new TypeError(`failureRate must be a number from 0 to 1, got ${JSON.stringify(failureRate)}`)
  }
  return { latencyMs: [latencyMs[0], latencyMs[1]], failureRate }
}
