// Redis Cluster hits: `cache()` backed by RedisCache against raw node-redis cluster GETs on the same
// createCluster() client, in one process, against a 6-node cluster (3 masters, 3 replicas) started
// here on free loopback ports (every redis-server killed by PID at the end, its directory removed).
// Usage: node --expose-gc src/redis-cluster.mjs   (needs redis-server + redis-cli on PATH and built packages)
// Figures are ratios of throughput to the raw GET measured in the same rotated round (harness.mjs).
import { execFile, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { cache } from '@acache/core'
import { RedisCache } from '@acache/redis'
import { createCluster } from 'redis'
import { compare, machine } from './harness.mjs'

const run = promisify(execFile)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const portIsFree = (port) =>
  new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })

/** Ports P where P and the cluster bus port P + 10000 are both free. */
async function clusterPorts(count) {
  const ports = []
  while (ports.length < count) {
    const port = 20000 + Math.floor(Math.random() * 35000)
    if (ports.some((p) => Math.abs(p - port) === 10000 || p === port)) continue
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) ports.push(port)
  }
  return ports
}

function startNode(port, dir) {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
    '--cluster-node-timeout', '1000', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice']
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    proc.on('exit', (code) => reject(new Error(`redis-server exited (${code})`)))
    const onData = (chunk) => {
      out += chunk
      if (out.includes('Ready to accept connections')) {
        proc.stdout.off('data', onData)
        proc.stdout.resume()
        resolve(proc)
      }
    }
    proc.stdout.on('data', onData)
  })
}

async function startCluster() {
  const root = mkdtempSync(join(tmpdir(), 'acache-bench-cluster-'))
  const ports = await clusterPorts(6)
  const procs = []
  const stop = () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) process.kill(p.pid, 'SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
  try {
    for (const [i, port] of ports.entries()) {
      const dir = join(root, `node-${i}`)
      mkdirSync(dir)
      procs.push(await startNode(port, dir))
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'])
    const deadline = Date.now() + 60_000
    for (;;) {
      const infos = await Promise.all(ports.map((p) => run('redis-cli', ['-p', String(p), 'cluster', 'info']).then((r) => r.stdout)))
      if (infos.every((i) => i.includes('cluster_state:ok') && /cluster_known_nodes:6\b/.test(i))) break
      if (Date.now() > deadline) throw new Error('cluster not ready')
      await sleep(100)
    }
  } catch (error) {
    stop()
    throw error
  }
  return { ports, stop }
}

const { ports, stop } = await startCluster()
try {
  const client = createCluster({ rootNodes: ports.map((p) => ({ url: `redis://127.0.0.1:${p}` })) })
  client.on('error', (e) => console.error('cluster error', e))
  await client.connect()

  const value = { id: 42, name: 'Ada Lovelace', roles: ['admin', 'author'] }
  const KEYS = 1000 // spread over every slot range, so over the three masters
  const store = new RedisCache(client, { prefix: 'bench:' }) // default deadline (500 ms) and breaker
  const viaCache = cache(3600, { key: 'user:{0}', store })(async (id) => ({ ...value, id }))
  for (let id = 0; id < KEYS; id++) await viaCache(id)
  const rawNoTimeout = client.withCommandOptions({ timeout: 0 })

  const concurrent = (fn, callers) => async (iterations) => {
    const per = Math.ceil(iterations / callers)
    await Promise.all(
      Array.from({ length: callers }, async (_, c) => {
        for (let i = 0; i < per; i++) await fn((c * per + i) % KEYS)
      }),
    )
  }
  const shapes = [
    ['100 concurrent callers, 1,000 keys on 3 masters', (fn) => concurrent(fn, 100), (id) => id],
    ['100 concurrent callers, one hot key', (fn) => concurrent(fn, 100), () => 42],
  ]

  console.log(`# Redis Cluster hits (3 masters + 3 replicas on loopback) — ${machine()}\n`)
  for (const [label, shape, pick] of shapes) {
    const candidates = {
      'raw cluster.get()': shape((i) => client.get(`bench:user:${pick(i)}`)),
      'cache() + RedisCache': shape((i) => viaCache(pick(i))),
      'raw cluster.get(), node-redis timeout off': shape((i) => rawNoTimeout.get(`bench:user:${pick(i)}`)),
    }
    const results = await compare(candidates, { rounds: 7, warmup: 2, iterations: 100_000 })
    console.log(`## ${label}`)
    const offNs = results['raw cluster.get(), node-redis timeout off'].medianNs
    console.log('| candidate | ops/s (median) | throughput vs raw cluster.get() (median of per-round ratios) | vs raw, timeout off (ratio of medians) |')
    console.log('|---|---:|---:|---:|')
    for (const [name, { medianNs, ratio }] of Object.entries(results)) {
      console.log(`| ${name} | ${(1e9 / medianNs).toFixed(0)} | ×${(1 / ratio).toFixed(3)} | ×${(offNs / medianNs).toFixed(3)} |`)
    }
    console.log()
  }

  store.close()
  await client.close()
} finally {
  stop()
}
