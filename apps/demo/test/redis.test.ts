/**
 * With REDIS_URL: a real redis-server spawned for this file; two demo processes share it.
 * Redis is the shared cache tier (entries visible as Redis keys), the invalidation bus (an
 * invalidation in one process evicts the other's L1) and the store of bg.write / bg.read.
 */
import { createClient } from 'redis'
import { get, post, startDemoProcess, waitFor, type DemoProcess } from './support/demo-process.js'
import { RedisServer } from '../../../packages/redis/test/support/redis-server.js'

let redis: RedisServer
let client: ReturnType<typeof createClient>
let a: DemoProcess
let b: DemoProcess

beforeAll(async () => {
  redis = await RedisServer.start()
  client = createClient({ url: redis.url })
  client.on('error', () => {})
  await client.connect()
  a = await startDemoProcess({ env: { REDIS_URL: redis.url } })
  // B has no writer of its own: what it mirrors comes from A's writer process, through Redis.
  b = await startDemoProcess({ env: { REDIS_URL: redis.url }, args: ['--no-writer'] })
})

afterAll(async () => {
  await a?.stop()
  await b?.stop()
  await client?.close().catch(() => {})
  await redis?.stop()
})

const stats = async (demo: DemoProcess) => (await get(`${demo.url}stats`)).body
const catalogCalls = async (demo: DemoProcess): Promise<number> => (await stats(demo)).upstream.endpoints.catalog?.calls ?? 0

test('Redis is the shared tier: keys appear in Redis and another process reads them without the upstream', async () => {
  const s = await stats(a)
  expect(s.setup.tiers.map((t: { kind: string }) => t.kind)).toEqual(['memory', 'redis'])
  expect(s.setup.composition).toBe('HybridCache + Redis invalidation bus')
  expect(s.setup.sharedStore).toBe('redis')

  const fromA = (await get(`${a.url}api/products/5`)).body.data
  expect(await client.exists('acache-demo:product:5')).toBe(1)
  const ttlMs = await client.pTTL('acache-demo:product:5')
  expect(ttlMs).toBeGreaterThan(50_000) // TTL 60 s
  expect(ttlMs).toBeLessThanOrEqual(60_000)

  const fromB = (await get(`${b.url}api/products/5`)).body.data
  expect(fromB).toEqual(fromA)
  expect(await catalogCalls(b)).toBe(0)
  expect((await stats(b)).metrics.caches['tier:redis']).toMatchObject({ hits: 1 })
})

test('the invalidation bus: invalidating in A evicts the key from B’s in-memory L1 at once', async () => {
  const v1 = (await get(`${b.url}api/products/6`)).body.data // B loads, writes Redis and its L1
  expect((await get(`${a.url}api/products/6`)).body.data).toEqual(v1) // A reads it from Redis into its L1
  expect((await get(`${b.url}api/products/6`)).body.data).toEqual(v1) // B: an L1 hit
  const deletesBefore = (await stats(b)).metrics.caches['tier:memory']?.deletes ?? 0

  expect((await post(`${a.url}api/products/6/invalidate`)).status).toBe(200)
  expect(await client.exists('acache-demo:product:6')).toBe(0)
  // The message evicts B's copy (well within B's 5 s L1 cap): B's next read reloads.
  await waitFor('B to evict product 6 from its L1', async () => ((await stats(b)).metrics.caches['tier:memory']?.deletes ?? 0) > deletesBefore, 3000, 20)
  const catalogBefore = await catalogCalls(b)
  const v2 = (await get(`${b.url}api/products/6`)).body.data
  expect(v2.loadedAt).not.toBe(v1.loadedAt)
  expect(await catalogCalls(b)).toBe(catalogBefore + 1)
})

test('bg.write in A’s writer process, bg.read in B, through Redis', async () => {
  const writerPid = await waitFor('A’s writer', async () => (await stats(a)).writer.pid as number)
  const value = await waitFor('B to mirror the shared value', async () => {
    const r = await get(`${b.url}api/shared-rates`)
    return r.status === 200 ? r.body.data : undefined
  })
  expect(value.writerPid).toBe(writerPid)
  expect(await client.exists('acache-demo:shared:exchange_rates')).toBe(1)
  expect((await stats(b)).writer).toEqual({ enabled: false })
  await waitFor('a newer value in B', async () => (await get(`${b.url}api/shared-rates`)).body.data.seq > value.seq, 15_000, 250)
})

test('SWR and refresh-ahead entries live in Redis too', async () => {
  await get(`${a.url}api/prices/STARK`)
  await get(`${a.url}api/forecast/lima`)
  const keys = (await client.keys('acache-demo:*')).sort()
  expect(keys).toEqual(expect.arrayContaining(['acache-demo:price:STARK', 'acache-demo:forecast:lima']))
  // no lock or marker keys are left in the store
  expect(keys.filter((k) => k.includes('lock'))).toEqual([])
})

test('both processes shut down cleanly (Redis clients, bus subscriber, writer)', async () => {
  expect(await b.stop()).toBe(0)
  expect(await a.stop()).toBe(0)
  // only this test's client is left connected to the server
  const clients = (await client.clientList()).length
  expect(clients).toBe(1)
})
