/**
 * Several real processes (test/fixtures/worker.mjs, running the built dist, each with its own
 * createCluster() client) against a real Redis Cluster: the distributed lock and the invalidation
 * bus. Needs `pnpm --filter @acache/redis build` first.
 */
import { connectCluster, sleep, type TestCluster } from './support/clients.js'
import { RedisCluster } from './support/redis-cluster.js'
import { msUntilEvicted, raceColdKeyWithLock, spawnWorkers as spawn, type Worker } from './support/workers.js'

let redis: RedisCluster
let raw: TestCluster
const workers: Worker[] = []
const spawnWorkers = (count: number, prefix: string) => spawn(count, { REDIS_CLUSTER: redis.urls, PREFIX: prefix }, workers)

beforeAll(async () => {
  redis = await RedisCluster.start()
  raw = await connectCluster(redis.rootNodes)
}, 120_000)

afterAll(async () => {
  for (const w of workers) await w.stop()
  await raw?.close()
  await redis?.stop()
}, 60_000)

test('4 processes race one cold key with lock on the cluster: 1 loader call; the lock TTL never exceeds its timeout', async () => {
  const ws = await spawnWorkers(4, 'crace:')
  const { values, samples, lockKey } = await raceColdKeyWithLock(ws, 'crace:', (k) => raw.pTTL(k))
  const loaderCalls = await raw.get('crace:loader-calls')
  console.log(`cluster lock: 4 processes, 1 cold key → ${loaderCalls} loader call(s); ${samples.length} PTTL samples, max ${Math.max(...samples)} ms`)
  expect(loaderCalls).toBe('1')
  expect(new Set(values).size).toBe(1) // everyone got the one loaded value
  expect(samples.length).toBeGreaterThan(10)
  expect(Math.max(...samples)).toBeLessThanOrEqual(2000)
  expect(await raw.exists(lockKey)).toBe(0) // released
}, 60_000)

test("invalidation in process A evicts the key from B's and C's L1 on the cluster, whatever node they subscribe on", async () => {
  const [a, b, c] = await spawnWorkers(3, 'cbus:')
  const channel = 'acache:invalidate:cbus:h:'
  // where the subscribers sit (node-redis picks a random node per cluster client)
  const perNode: string[] = []
  for (const node of redis.nodes) {
    const out = await node.cli('pubsub', 'numsub', channel)
    const count = Number(out.trim().split('\n')[1] ?? 0)
    if (count > 0) perNode.push(`${node.port}×${count}`)
  }
  const first = await a.call<{ version: number; pid: number }>('get', { id: 1 })
  await sleep(300) // let A's own write invalidation pass first (it would evict what B and C read now)
  for (const w of [b, c]) {
    expect(await w.call('get', { id: 1 })).toEqual(first) // read A's value from Redis…
    expect(await w.call('l1Has', { id: 1 })).toBe(true) // …and keep it in L1
  }
  const t0 = performance.now()
  await a.call('invalidate', { id: 1 })
  const evictedAfter: number[] = []
  for (const w of [b, c]) {
    const ms = await msUntilEvicted(w, 1, t0, 2000)
    if (ms >= 0) evictedAfter.push(ms)
  }
  console.log(
    `cluster bus: subscribers per node ${perNode.join(', ')}; B's and C's L1 evicted ${evictedAfter.map((ms) => ms.toFixed(1)).join(' / ')} ms after A's invalidate`,
  )
  expect(evictedAfter).toHaveLength(2)
  for (const ms of evictedAfter) expect(ms).toBeLessThan(200)
  // a new write in A (refresh) also evicts B's copy, and B then reads A's new value
  await b.call('get', { id: 1 })
  const fresh = await a.call<{ version: number }>('refresh', { id: 1 })
  await sleep(200)
  expect(await b.call('l1Has', { id: 1 })).toBe(false)
  expect(await b.call('get', { id: 1 })).toEqual(fresh)
}, 60_000)
