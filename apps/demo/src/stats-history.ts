/**
 * The dashboard's time series. Once a second the server takes a snapshot of the cumulative
 * counters (core's `InMemoryMetrics`, the upstream's call counts, the HTTP counters) and turns the
 * difference with the previous snapshot into one point: per-second rates, hit rates per function
 * and per tier, stale serves, background refresh outcomes, and p50/p99 of the calls made during
 * that second. The last `capacity` points are kept.
 */

/** Cumulative counters at one instant. */
export interface Snapshot {
  /** `InMemoryMetrics.getStats().caches`: per cache name. */
  caches: Record<string, { hits: number; misses: number; staleHits?: number }>
  /** `InMemoryMetrics.getStats().backgroundRefresh`. */
  backgroundRefresh: Record<string, { success: number; failure: number }>
  upstream: { calls: number; failures: number }
  http: { requests: number; errors: number }
}

/** One function during one interval. */
export interface FunctionPoint {
  /** Calls that read the cache (hits + misses). */
  reads: number
  /** Hits / reads × 100, `null` without reads. */
  hitRate: number | null
  /** Stale values served (SWR). */
  stale: number
  /** Latency of the calls the service made in the interval, ms; `null` without calls. */
  p50Ms: number | null
  p99Ms: number | null
}

/** One tier during one interval. */
export interface TierPoint {
  /** Reads that reached this tier. */
  reads: number
  hitRate: number | null
}

/** One interval (normally a second). */
export interface HistoryPoint {
  /** End of the interval, epoch ms. */
  t: number
  /** Length of the interval, seconds. */
  seconds: number
  requests: number
  errors: number
  upstreamCalls: number
  upstreamFailures: number
  /** p50/p99 of every call of the interval, all functions together; `null` without calls. */
  calls: { count: number; p50Ms: number | null; p99Ms: number | null }
  functions: Record<string, FunctionPoint>
  tiers: Record<string, TierPoint>
  /** Background refresh outcomes per job (SWR, refresh-ahead, bg, the writer's bg.write). */
  refreshes: Record<string, { success: number; failure: number }>
}

/**
 * Latency samples of the calls made since the last drain, per function.
 *
 * @example
 * const windows = new LatencyWindows()
 * windows.record('product', 0.12)
 * windows.drain() // Map { 'product' => [0.12] }
 */
export class LatencyWindows {
  private samples = new Map<string, number[]>()
  /** At most this many samples per function and interval are kept (a uniform sample beyond). */
  constructor(private readonly limit = 5000) {}

  record(name: string, ms: number): void {
    let list = this.samples.get(name)
    if (list === undefined) this.samples.set(name, (list = []))
    if (list.length < this.limit) list.push(ms)
    else list[Math.floor(Math.random() * this.limit)] = ms
  }

  drain(): Map<string, number[]> {
    const out = this.samples
    this.samples = new Map()
    return out
  }
}

/**
 * The `q`-quantile (0–1) of `values` by nearest rank; `null` for none. Sorts `values` in place.
 *
 * @example
 * percentile([5, 1, 3], 0.5) // 3
 */
export function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null
  values.sort((a, b) => a - b)
  const rank = Math.min(values.length, Math.max(1, Math.ceil(q * values.length)))
  return values[rank - 1]
}

const delta = (now: number | undefined, before: number | undefined): number => Math.max(0, (now ?? 0) - (before ?? 0))
const rate = (hits: number, reads: number): number | null => (reads === 0 ? null : Math.round((hits / reads) * 10_000) / 100)

/**
 * The point between two snapshots.
 *
 * @example
 * computePoint(before, after, latencies, { functions: ['product'], tiers: ['tier:memory'] }, Date.now(), 1)
 */
export function computePoint(
  before: Snapshot,
  after: Snapshot,
  latencies: Map<string, number[]>,
  names: { functions: readonly string[]; tiers: readonly string[] },
  t: number,
  seconds: number,
): HistoryPoint {
  const all = [...latencies.values()].flat()
  const allP50 = percentile(all, 0.5)
  const allP99 = percentile(all, 0.99)
  const functions: Record<string, FunctionPoint> = {}
  for (const name of names.functions) {
    const a = after.caches[name]
    const b = before.caches[name]
    const hits = delta(a?.hits, b?.hits)
    const reads = hits + delta(a?.misses, b?.misses)
    const samples = latencies.get(name) ?? []
    const p99 = percentile(samples, 0.99)
    const p50 = percentile(samples, 0.5)
    functions[name] = {
      reads,
      hitRate: rate(hits, reads),
      stale: delta(a?.staleHits, b?.staleHits),
      p50Ms: p50 === null ? null : round3(p50),
      p99Ms: p99 === null ? null : round3(p99),
    }
  }
  const tiers: Record<string, TierPoint> = {}
  for (const name of names.tiers) {
    const a = after.caches[name]
    const b = before.caches[name]
    const hits = delta(a?.hits, b?.hits)
    const reads = hits + delta(a?.misses, b?.misses)
    tiers[name] = { reads, hitRate: rate(hits, reads) }
  }
  const refreshes: Record<string, { success: number; failure: number }> = {}
  for (const [name, now] of Object.entries(after.backgroundRefresh)) {
    const was = before.backgroundRefresh[name]
    refreshes[name] = { success: delta(now.success, was?.success), failure: delta(now.failure, was?.failure) }
  }
  return {
    t,
    seconds,
    requests: delta(after.http.requests, before.http.requests),
    errors: delta(after.http.errors, before.http.errors),
    upstreamCalls: delta(after.upstream.calls, before.upstream.calls),
    upstreamFailures: delta(after.upstream.failures, before.upstream.failures),
    calls: { count: all.length, p50Ms: allP50 === null ? null : round3(allP50), p99Ms: allP99 === null ? null : round3(allP99) },
    functions,
    tiers,
    refreshes,
  }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/**
 * Samples a {@link Snapshot} source into a ring of {@link HistoryPoint}s.
 *
 * @example
 * const history = new StatsHistory({ read, latencies, functions: ['product'], tiers: ['tier:memory'] })
 * history.sample()     // once a second
 * history.since(0)     // every point kept
 */
export class StatsHistory {
  private readonly points: HistoryPoint[] = []
  private previous: { snapshot: Snapshot; t: number }

  constructor(
    private readonly options: {
      read: () => Snapshot
      latencies: LatencyWindows
      functions: readonly string[]
      tiers: readonly string[]
      capacity?: number
      now?: () => number
    },
  ) {
    this.previous = { snapshot: options.read(), t: this.now() }
  }

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  /** Closes the current interval: adds its point and returns it. */
  sample(): HistoryPoint {
    const t = this.now()
    const snapshot = this.options.read()
    const point = computePoint(this.previous.snapshot, snapshot, this.options.latencies.drain(), this.options, t, Math.max(0.001, (t - this.previous.t) / 1000))
    this.previous = { snapshot, t }
    this.points.push(point)
    const capacity = this.options.capacity ?? 300
    if (this.points.length > capacity) this.points.splice(0, this.points.length - capacity)
    return point
  }

  /** The points after `t` (epoch ms), oldest first. */
  since(t: number): HistoryPoint[] {
    let i = this.points.length
    while (i > 0 && this.points[i - 1].t > t) i--
    return this.points.slice(i)
  }
}
