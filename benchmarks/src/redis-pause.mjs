// Redis paused: steady open-loop load on each library in turn while its redis-server is stopped
// (SIGSTOP) for 2 s and continued (SIGCONT); records every call's latency and whether it failed.
// Usage: node --expose-gc src/redis-pause.mjs [redis-pause] [--json=out.json]
//
// A dedicated redis-server is spawned on a free loopback port (killed by PID at the end). Each
// library gets a fresh node-redis client, warms its keys (the correctness gate), then calls are
// issued at a fixed rate whatever the previous calls are doing (open loop, so a hung call cannot
// hold back the next ones), and a call's latency is measured from the moment it was due.
import { createClient } from 'redis'
import { check, gateAll, percentile, runScenarios, sleep, startRedis } from './harness.mjs'
import { l2NotApplicable, l2Peers } from './redis-peers.mjs'
import { formatScenario } from './report.mjs'

const KEYS = 100
const TTL = 3600
const LOADER_MS = 10
const RATE = 500 // calls per second
const PHASES = { before: 1, paused: 2, after: 2 }
const SETTLE_MS = 10_000 // how long to wait, after the window, for calls still pending
const user = (id) => ({ id, name: `user-${id}` })
const sameUser = (v, id) => v !== null && typeof v === 'object' && v.id === id && v.name === `user-${id}`

/** The hand-written read-through with node-redis defaults: GET, and on a miss load and SET. */
const handWritten = async (ctx) => ({
  fn: async (id) => {
    const key = 'raw:user:' + id
    const hit = await ctx.client.get(key)
    if (hit !== null) return JSON.parse(hit)
    const value = await ctx.load(id)
    await ctx.client.set(key, JSON.stringify(value), { EX: ctx.ttl })
    return value
  },
  close: () => {},
  config: 'GET, then load + SET on a miss, on a `createClient({ url })` client with defaults; no fallback on errors',
})

async function runOne(redis, factory, name) {
  const client = createClient({ url: redis.url })
  client.on('error', () => {}) // reconnect noise; failures show up as rejected calls
  await client.connect()
  let loaderCalls = 0
  const load = async (id) => {
    loaderCalls++
    await sleep(LOADER_MS)
    return user(id)
  }
  const candidate = await factory({ url: redis.url, port: redis.port, client, load, ttl: TTL })
  try {
    // Gate: every key warmed with one loader call each, then served without the loader.
    for (let id = 0; id < KEYS; id++) check(sameUser(await candidate.fn(id), id), `${name}: value for key ${id}`)
    for (let id = 0; id < KEYS; id++) check(sameUser(await candidate.fn(id), id), `${name}: cached value for key ${id}`)
    check(loaderCalls === KEYS, `${name}: ${loaderCalls} loader calls for ${KEYS} keys`)
    loaderCalls = 0

    const interval = 1000 / RATE
    const total = (PHASES.before + PHASES.paused + PHASES.after) * 1000
    const latencies = []
    let errors = 0
    let wrong = 0
    let pending = 0
    let issued = 0
    const start = performance.now()
    let stopped = false
    let continued = false
    while (true) {
      const now = performance.now() - start
      if (!stopped && now >= PHASES.before * 1000) {
        process.kill(redis.proc.pid, 'SIGSTOP')
        stopped = true
      }
      if (!continued && now >= (PHASES.before + PHASES.paused) * 1000) {
        process.kill(redis.proc.pid, 'SIGCONT')
        continued = true
      }
      if (now >= total) break
      for (; issued * interval <= now; issued++) {
        const due = start + issued * interval
        const id = issued % KEYS
        pending++
        candidate.fn(id).then(
          (v) => {
            if (!sameUser(v, id)) wrong++
            latencies.push(performance.now() - due)
            pending--
          },
          () => {
            errors++
            latencies.push(performance.now() - due)
            pending--
          },
        )
      }
      await sleep(1)
    }
    if (!continued) process.kill(redis.proc.pid, 'SIGCONT')
    const settleBy = performance.now() + SETTLE_MS
    while (pending > 0 && performance.now() < settleBy) await sleep(10)
    return {
      calls: issued,
      errors,
      wrongValues: wrong,
      unsettled: pending,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: Math.max(...latencies),
      loaderCalls,
    }
  } finally {
    try {
      process.kill(redis.proc.pid, 'SIGCONT')
    } catch {}
    await candidate.close?.()
    await client.close().catch(() => {})
    // Let the server drain whatever the paused library left queued before the next one starts.
    await sleep(300)
  }
}

/** Says, from the figures, who answered within the pause and who waited for the server. */
function pauseNote(results) {
  const waited = Object.entries(results).filter(([, r]) => r.max >= PHASES.paused * 1000 * 0.9).map(([n]) => n)
  const bounded = Object.entries(results).filter(([, r]) => r.max < PHASES.paused * 1000 * 0.9).map(([n]) => n)
  return (
    `acache runs with its defaults (500 ms deadline, breaker 5 failures / 5 s, \`onError: 'silent'\`): a read that misses the deadline is a miss, ` +
    'the loader runs and the failed write is skipped; once the breaker is open Redis is skipped (loader calls) until the cool-down ends. ' +
    `Peers run with their defaults. Calls bounded below the pause length: ${bounded.join(', ') || 'none'}; ` +
    `calls that waited for the server to continue (max ≥ ${(PHASES.paused * 0.9).toFixed(1)} s): ${waited.join(', ') || 'none'}.`
  )
}

const scenarios = {
  async 'redis-pause'() {
    const redis = await startRedis()
    try {
      const factories = { 'hand-written (node-redis)': handWritten, ...l2Peers }
      const results = {}
      const config = {}
      const { failed } = await gateAll(factories, async (factory, name) => {
        const r = await runOne(redis, async (ctx) => {
          const c = await factory(ctx)
          config[name] = c.config
          return c
        }, name)
        check(r.wrongValues === 0, `${name}: ${r.wrongValues} wrong values under load`)
        results[name] = r
      })
      for (const name of Object.keys(failed)) delete results[name]
      return {
        kind: 'pause',
        rate: RATE,
        keys: KEYS,
        loaderMs: LOADER_MS,
        deadlineMs: 500,
        seconds: { ...PHASES, total: PHASES.before + PHASES.paused + PHASES.after },
        results,
        failed,
        na: l2NotApplicable,
        config,
        notes: [pauseNote(results)],
      }
    } finally {
      await redis.stop()
    }
  },
}

await runScenarios(scenarios, formatScenario)
process.exit(0)
