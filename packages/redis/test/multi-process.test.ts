/**
 * Several real processes (test/fixtures/worker.mjs, running the built dist) against one
 * redis-server: the distributed lock and the invalidation bus. Needs `pnpm build` first.
 */
import { connect, sleep, type TestClient } from './support/clients.js'
import { RedisServer } from './support/redis-server.js'
import { msUntilEvicted, raceColdKeyWithLock, spawnWorkers as spawn, type Worker } from './support/workers.js'

let server: RedisServer
let raw: TestClient
const workers: Worker[] = []
const spawnWorkers = (count: number, prefix: string) => spawn(count, { REDIS_URL: server.url, PREFIX: prefix }, workers)

beforeAll(async () => {
  server = await RedisServer.start()
  raw = await connect(server.url)
})

afterAll(async () => {
  for (const w of workers) await w.stop()
  await raw?.close()
  await server?.stop()
})

test('4 processes race one cold key with lock: 1 loader call in total; the lock TTL never exceeds its timeout', async () => {
  const ws = await spawnWorkers(4, 'race:')
  // the lock's PTTL is sampled while it is held (timeout 2 s)
  const { values, samples, lockKey } = await raceColdKeyWithLock(ws, 'race:', (k) => raw.pTTL(k))
  expect(await raw.get('race:loader-calls')).toBe('1')
  expect(new Set(values).size).toBe(1) // everyone got the one loaded value
  expect(samples.length).toBeGreaterThan(10)
  expect(Math.max(...samples)).toBeLessThanOrEqual(2000)
  expect(await raw.exists(lockKey)).toBe(0) // released
}, 30_000)

test("invalidation in process A evicts the key from process B's L1 within 100 ms", async () => {
  const [a, b] = await spawnWorkers(2, 'bus:')
  const first = await a.call<{ version: number; pid: number }>('get', { id: 1 })
  await sleep(200) // let A's own write invalidation pass first (it would evict what B reads now)
  expect(await b.call('get', { id: 1 })).toEqual(first) // B read A's value from Redis…
  expect(await b.call('l1Has', { id: 1 })).toBe(true) // …and keeps it in its L1
  const t0 = performance.now()
  await a.call('invalidate', { id: 1 })
  const evictedAfter = await msUntilEvicted(b, 1, t0, 1000)
  console.log(`bus: B's L1 evicted ${evictedAfter.toFixed(1)} ms after A's invalidate`)
  expect(evictedAfter).toBeGreaterThanOrEqual(0)
  expect(evictedAfter).toBeLessThan(100)
  // a new write in A (refresh) also evicts B's copy, and B then reads A's new value
  await b.call('get', { id: 1 })
  const fresh = await a.call<{ version: number }>('refresh', { id: 1 })
  await sleep(100)
  expect(await b.call('l1Has', { id: 1 })).toBe(false)
  expect(await b.call('get', { id: 1 })).toEqual(fresh)
}, 30_000)
