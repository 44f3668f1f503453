// Redis hits: `cache()` backed by RedisCache against raw node-redis GETs on the same client, in one
// process, against a redis-server spawned here on a free loopback port (killed at the end).
// Usage: node --expose-gc src/redis.mjs   (needs `redis-server` on PATH and built packages)
// Figures are ratios of throughput to the raw GET measured in the same rotated round (harness.mjs).
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { cache } from '@acache/core'
import { RedisCache } from '@acache/redis'
import { createClient } from 'redis'
import { compare, machine } from './harness.mjs'

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer().on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })

async function startRedis() {
  const port = await freePort()
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((resolve, reject) => {
    let out = ''
    proc.on('exit', (code) => reject(new Error(`redis-server exited (${code})`)))
    proc.stdout.on('data', (chunk) => {
      out += chunk
      if (out.includes('Ready to accept connections')) resolve()
    })
  })
  return { port, proc }
}

const { port, proc } = await startRedis()
const client = createClient({ url: `redis://127.0.0.1:${port}` })
client.on('error', (e) => console.error('client error', e))
await client.connect()

const value = { id: 42, name: 'Ada Lovelace', roles: ['admin', 'author'] }
const store = new RedisCache(client, { prefix: 'bench:' }) // default deadline (500 ms) and breaker
const noDeadline = new RedisCache(client, { prefix: 'bench:', timeout: 0, breaker: false })
const loader = async () => value
const viaCache = cache(3600, { key: 'user:42', store })(loader)
const viaCacheNoDeadline = cache(3600, { key: 'user:42', store: noDeadline })(loader)
await viaCache()
const rawKey = 'bench:user:42' // the same entry bytes a hit reads
const rawGet = () => client.get(rawKey)
const rawGetNoTimeout = client.withCommandOptions({ timeout: 0 })

const sequential = (fn) => async (iterations) => {
  for (let i = 0; i < iterations; i++) await fn()
}
const concurrent = (fn, callers) => async (iterations) => {
  const per = Math.ceil(iterations / callers)
  await Promise.all(Array.from({ length: callers }, async () => {
    for (let i = 0; i < per; i++) await fn()
  }))
}

const candidates = (shape) => ({
  'raw GET': shape(rawGet),
  'cache() + RedisCache': shape(viaCache),
  'cache() + RedisCache, no deadline (node-redis 5 s timeout)': shape(viaCacheNoDeadline),
  'raw GET, node-redis timeout off': shape(() => rawGetNoTimeout.get(rawKey)),
})

console.log(`# Redis hits — ${machine()}, redis-server on loopback\n`)
for (const [label, shape, iterations] of [
  ['sequential (1 caller)', sequential, 20_000],
  ['100 concurrent callers', (fn) => concurrent(fn, 100), 200_000],
]) {
  const results = await compare(candidates(shape), { rounds: 7, warmup: 2, iterations })
  console.log(`## ${label}`)
  for (const [name, { medianNs, ratio }] of Object.entries(results)) {
    console.log(`- ${name}: ${(1e9 / medianNs).toFixed(0)} ops/s, throughput ×${(1 / ratio).toFixed(3)} of raw GET`)
  }
  console.log()
}

store.close()
noDeadline.close()
await client.close()
proc.kill('SIGKILL')
