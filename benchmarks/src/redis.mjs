// Redis scenarios: acache and the peer libraries against raw node-redis GETs on the same server
// (a redis-server spawned here on a free loopback port, killed by PID at the end).
// Usage: node --expose-gc src/redis.mjs [redis-sequential | redis-concurrent | hybrid-hit ...] [--json=out.json]
//
// Redis hits are reported as **speed** = raw GET time ÷ library time measured in the same rotated
// round (higher is faster; 0.85× = 85 % of a bare GET's throughput). Two baselines: a client from
// `createClient({ url })` with its defaults (node-redis puts a 5 s timeout on every command), and
// the same client with the per-command timeout off — which is how acache's RedisCache sends its
// commands (it enforces its own deadline instead).
import { createClient } from 'redis'
import { check, compare, gateAll, median, redisStat, runScenarios, startRedis } from './harness.mjs'
import { memoAsync } from './peers.mjs'
import { hybridNotApplicable, hybridPeers, l2NotApplicable, l2Peers } from './redis-peers.mjs'
import { formatScenario } from './report.mjs'

const KEYS = 1000
const TTL = 3600
const ids = Array.from({ length: KEYS }, (_, i) => i)
const user = (id) => ({ id, name: `user-${id}` })
const sameUser = (v, id) => v !== null && typeof v === 'object' && v.id === id && v.name === `user-${id}`

async function withRedis(body) {
  const redis = await startRedis()
  const client = createClient({ url: redis.url })
  client.on('error', (e) => console.error('node-redis client error:', e.message))
  await client.connect()
  try {
    return await body(redis, client)
  } finally {
    await client.close().catch(() => {})
    await redis.stop()
  }
}

/** Builds every candidate, then gates it: warm all keys, then a pass of hits that must not call the loader. */
async function buildAndGate(factories, redis, client, { expectRedisReads }) {
  let calls = 0
  const load = async (id) => {
    calls++
    return user(id)
  }
  const built = {}
  const commandsPerHit = {}
  const { passed, failed } = await gateAll(factories, async (factory, name) => {
    const candidate = await factory({ url: redis.url, port: redis.port, client, load, ttl: TTL })
    built[name] = candidate
    calls = 0
    const keysBefore = await client.dbSize()
    for (const id of ids) check(sameUser(await candidate.fn(id), id), `${name}: value for key ${id}`)
    check(calls === KEYS, `${name}: ${calls} loader calls while warming ${KEYS} keys`)
    check((await client.dbSize()) - keysBefore >= KEYS, `${name}: entries did not reach Redis`)
    const hitsBefore = await redisStat(client, 'keyspace_hits')
    const commandsBefore = await redisStat(client, 'total_commands_processed')
    for (const id of ids) check(sameUser(await candidate.fn(id), id), `${name}: cached value for key ${id}`)
    const reads = (await redisStat(client, 'keyspace_hits')) - hitsBefore
    // Commands the server ran per hit (minus the INFO call reading the counter).
    commandsPerHit[name] = ((await redisStat(client, 'total_commands_processed')) - commandsBefore - 1) / KEYS
    check(calls === KEYS, `${name}: the loader ran on a hit`)
    if (expectRedisReads) check(reads >= KEYS, `${name}: only ${reads} Redis reads for ${KEYS} hits (not reading Redis)`)
    else check(reads === 0, `${name}: ${reads} Redis reads for ${KEYS} L1 hits`)
  })
  for (const name of Object.keys(failed)) await built[name]?.close?.()
  return {
    passed: Object.fromEntries(Object.keys(passed).map((n) => [n, built[n]])),
    failed,
    config: Object.fromEntries(Object.entries(built).map(([n, c]) => [n, c.config])),
    commandsPerHit,
  }
}

const sequential = (fn) => async (iterations) => {
  for (let i = 0; i < iterations; i++) {
    const v = await fn(ids[i % KEYS])
    if (v === null || v === undefined) throw new Error('miss while timing')
  }
}
// 100 callers, each walking the keys from its own offset, so concurrent calls are for different keys
// (no library can merge them into one read).
const concurrent = (fn, callers) => async (iterations) => {
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      const per = Math.floor(iterations / callers) + (c < iterations % callers ? 1 : 0)
      for (let i = 0; i < per; i++) {
        const v = await fn(ids[(c * 10 + i) % KEYS])
        if (v === null || v === undefined) throw new Error('miss while timing')
      }
    }),
  )
}

async function redisHits(callers, iterations) {
  return withRedis(async (redis, client) => {
    const { passed, failed, config, commandsPerHit } = await buildAndGate(l2Peers, redis, client, { expectRedisReads: true })
    // The raw baselines read acache's entries (the same bytes an acache hit reads).
    const rawKeys = ids.map((id) => `acache:user:${id}`)
    const noTimeout = client.withCommandOptions({ timeout: 0 })
    for (const id of ids) check((await client.get(rawKeys[id])) !== null, 'raw GET finds the entry')
    const raw = (c) => (id) => c.get(rawKeys[id])
    const shape = callers === 1 ? sequential : (fn) => concurrent(fn, callers)
    const candidates = {
      'raw GET, default client': shape(raw(client)),
      'raw GET, command timeout off': shape(raw(noTimeout)),
      ...Object.fromEntries(Object.entries(passed).map(([name, c]) => [name, shape(c.fn)])),
    }
    const timed = await compare(candidates, { iterations, budgetMs: 200, slices: 20, rounds: 9, warmup: 1 })
    for (const c of Object.values(passed)) await c.close?.()
    const base = timed['raw GET, default client'].perRound
    const baseNoTimeout = timed['raw GET, command timeout off'].perRound
    const results = Object.fromEntries(
      Object.entries(timed).map(([name, x]) => [
        name,
        {
          medianNs: x.medianNs,
          opsPerSec: 1e9 / x.medianNs,
          speedVsRaw: median(x.perRound.map((v, i) => base[i] / v)),
          speedVsRawNoTimeout: median(x.perRound.map((v, i) => baseNoTimeout[i] / v)),
          commandsPerHit: commandsPerHit[name] ?? 1,
          rounds: x.rounds,
          iterations: x.iterations,
        },
      ]),
    )
    config['raw GET, default client'] = '`createClient({ url })` defaults (5 s command timeout on every command)'
    config['raw GET, command timeout off'] = 'the same client, `withCommandOptions({ timeout: 0 })`'
    return { kind: 'redis', callers, keys: KEYS, iterations, results, failed, na: l2NotApplicable, config }
  })
}

const scenarios = {
  'redis-sequential': () => redisHits(1, 10_000),
  'redis-concurrent': () => redisHits(100, 50_000),

  async 'hybrid-hit'() {
    return withRedis(async (redis, client) => {
      const { passed, failed, config } = await buildAndGate(hybridPeers, redis, client, { expectRedisReads: false })
      const memo = memoAsync(async (id) => user(id), TTL)
      for (const id of ids) await memo(id)
      const loop = (f) => async (n) => {
        let s = 0
        for (let i = 0; i < n; i++) s += (await f(ids[i % KEYS])).id
        if (s < 0) throw new Error()
      }
      const hitsBefore = await redisStat(client, 'keyspace_hits')
      const results = await compare(
        { memo: loop(memo), ...Object.fromEntries(Object.entries(passed).map(([name, c]) => [name, loop(c.fn)])) },
        { iterations: 500_000, budgetMs: 150, slices: 5, rounds: 7, warmup: 1 },
      )
      const redisReads = (await redisStat(client, 'keyspace_hits')) - hitsBefore
      check(redisReads === 0, `${redisReads} Redis reads while timing L1 hits`)
      // For scale: a raw GET on the same server.
      const t = performance.now()
      for (let i = 0; i < 2000; i++) await client.get(`acache-hy:user:${i % KEYS}`)
      const rawGetNs = ((performance.now() - t) * 1e6) / 2000
      for (const c of Object.values(passed)) await c.close?.()
      config.memo = 'hand-written async memo (`Map` + expiry), no Redis'
      return { kind: 'hybrid', baseline: 'memo', results, failed, na: hybridNotApplicable, config, rawGetNs }
    })
  },
}

await runScenarios(scenarios, formatScenario)
process.exit(0)
