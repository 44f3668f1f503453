// Benchmark harness: candidates run interleaved in rotated rounds inside one process, each figure
// is a ratio to the baseline measured in the same round, and the median over the rounds is kept.
// The machine is noisy; ratios from the same round are what can be compared.
// Also: the correctness gate, percentiles, a throw-away redis-server, versions and machine facts.
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import os from 'node:os'
import { join } from 'node:path'

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** The p-th percentile (0–100) by nearest rank of an unsorted list. */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

/** Throws a gate failure naming what was wrong. */
export const check = (cond, what) => {
  if (!cond) throw new Error(`correctness gate failed: ${what}`)
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Nanoseconds per operation of `run(iterations)` (which must do `iterations` operations). */
export async function nsPerOp(run, iterations, collect = true) {
  // Start every measurement from a collected heap, so no candidate pays for another's garbage.
  if (collect && typeof globalThis.gc === 'function') globalThis.gc()
  const t0 = process.hrtime.bigint()
  await run(iterations)
  return Number(process.hrtime.bigint() - t0) / iterations
}

/**
 * Runs every candidate once per round, rotating the order each round, after `warmup` untimed rounds.
 * `candidates`: `{ name: async (iterations) => void }`; the first one is the baseline.
 * With `budgetMs`, a short calibration run first sizes each candidate's iteration count so one
 * measurement takes about `budgetMs` (at most `iterations`, at least `iterations / 50`): slow
 * libraries do fewer calls, fast ones enough to be measured precisely. Without it every candidate
 * does `iterations` (use that when the count is part of the scenario, e.g. N distinct keys).
 * With `slices` > 1 a round is cut into that many slices and every candidate runs its share in each
 * slice (the order rotated again per slice), so a burst of load from elsewhere on the machine falls
 * on all candidates of the round alike.
 * Returns `{ name: { medianNs, ratio, rounds, iterations, perRound } }` where ratio is the median of
 * per-round ratios of ns/op to the baseline (time ratio: lower is faster).
 */
export async function compare(candidates, { rounds = 7, warmup = 2, iterations, budgetMs, slices = 1 }) {
  const names = Object.keys(candidates)
  const baseline = names[0]
  const count = Object.fromEntries(names.map((n) => [n, iterations]))
  if (budgetMs !== undefined) {
    const probe = Math.max(1, Math.round(iterations / 50))
    for (const n of names) {
      const estimate = await nsPerOp(candidates[n], probe)
      count[n] = Math.max(probe, Math.min(iterations, Math.round((budgetMs * 1e6) / estimate)))
    }
  }
  const perSlice = Object.fromEntries(names.map((n) => [n, Math.max(1, Math.round(count[n] / slices))]))
  const ns = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = -warmup; r < rounds; r++) {
    const total = Object.fromEntries(names.map((n) => [n, 0]))
    for (let s = 0; s < slices; s++) {
      const shift = Math.max(r, 0) + s
      // With slices, the heap is collected once per slice (a full GC per candidate per slice would
      // cost more than short slices measure).
      if (slices > 1 && typeof globalThis.gc === 'function') globalThis.gc()
      for (let i = 0; i < names.length; i++) {
        const n = names[(i + shift) % names.length]
        total[n] += (await nsPerOp(candidates[n], perSlice[n], slices === 1)) * perSlice[n]
      }
    }
    if (r >= 0) for (const n of names) ns[n].push(total[n] / (perSlice[n] * slices))
  }
  const out = {}
  for (const n of names) {
    const ratios = ns[n].map((v, i) => v / ns[baseline][i])
    out[n] = { medianNs: median(ns[n]), ratio: median(ratios), rounds: ns[n].length, iterations: perSlice[n] * slices, perRound: ns[n] }
  }
  return out
}

/**
 * The correctness gate: runs `gate(candidate, name)` for every candidate; a candidate whose gate
 * throws is left out of timing and reported with the reason.
 * Returns `{ passed: { name: candidate }, failed: { name: reason } }`.
 */
export async function gateAll(candidates, gate) {
  const passed = {}
  const failed = {}
  for (const [name, candidate] of Object.entries(candidates)) {
    try {
      await gate(candidate, name)
      passed[name] = candidate
    } catch (error) {
      failed[name] = String(error?.message ?? error).replace(/\s+/g, ' ').slice(0, 200)
    }
  }
  return { passed, failed }
}

export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu'
  return `Node ${process.version}, ${os.platform()} ${os.arch()}, ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`
}

const benchDir = join(import.meta.dirname, '..')

/** Installed versions of the libraries under test (read from their package.json files). */
export function versions() {
  const names = [
    '@acache/core', '@acache/redis', 'lru-cache', 'bentocache', 'cache-manager', 'keyv', '@keyv/redis', 'cacheable',
    '@epic-web/cachified', 'cachified-redis-adapter', 'async-cache-dedupe', 'p-memoize', 'expiry-map', 'redis', 'ioredis',
  ]
  const out = {}
  for (const name of names) {
    try {
      out[name] = JSON.parse(readFileSync(join(benchDir, 'node_modules', name, 'package.json'), 'utf8')).version
    } catch {
      out[name] = 'not installed'
    }
  }
  try {
    out['redis-server'] = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? 'unknown'
  } catch {
    out['redis-server'] = 'not found'
  }
  return out
}

/** `node src/x.mjs [scenario ...] [--json=path]`: the scenarios asked for and where to write the JSON. */
export function parseArgs(known) {
  const args = process.argv.slice(2)
  const json = args.find((a) => a.startsWith('--json='))?.slice('--json='.length)
  const wanted = args.filter((a) => !a.startsWith('--'))
  for (const name of wanted) {
    if (!known.includes(name)) throw new Error(`unknown scenario ${name}; known: ${known.join(', ')}`)
  }
  return { wanted: wanted.length ? wanted : known, json }
}

/** Runs the scenarios of one file, prints each result, and writes them as JSON when asked. */
export async function runScenarios(scenarios, print) {
  const { wanted, json } = parseArgs(Object.keys(scenarios))
  const results = {}
  for (const name of wanted) {
    const started = Date.now()
    results[name] = await scenarios[name]()
    results[name].elapsedSeconds = Math.round((Date.now() - started) / 100) / 10
    results[name].measuredAt = new Date().toISOString()
    console.log(print(name, results[name]))
  }
  if (json) writeFileSync(json, JSON.stringify(results, null, 2))
  return results
}

// ---- a throw-away redis-server on a free loopback port ---------------------------------------

export const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer().on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })

/** Spawns `redis-server` on a free port; resolves `{ port, url, proc, stop }` once it accepts connections. */
export async function startRedis() {
  const port = await freePort()
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((resolve, reject) => {
    let out = ''
    const onExit = (code) => reject(new Error(`redis-server exited (${code})`))
    proc.on('exit', onExit)
    proc.stdout.on('data', (chunk) => {
      out += chunk
      if (out.includes('Ready to accept connections')) {
        proc.off('exit', onExit)
        proc.stdout.resume()
        resolve()
      }
    })
  })
  // Never leave the server behind, whatever ends this process.
  const kill = () => {
    try {
      process.kill(proc.pid, 'SIGCONT')
      process.kill(proc.pid, 'SIGKILL')
    } catch {}
  }
  process.once('exit', kill)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    proc,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
        proc.once('exit', () => resolve())
        kill()
      }),
  }
}

/** A numeric field of `INFO stats` (e.g. `keyspace_hits`) read through a node-redis client. */
export async function redisStat(client, field) {
  const info = await client.info('stats')
  const m = info.match(new RegExp(`^${field}:(\\d+)`, 'm'))
  return m ? Number(m[1]) : NaN
}
