/**
 * Failure behaviour against a real redis-server under concurrent load: a killed and restarted
 * server, a hung one (SIGSTOP), and the circuit breaker.
 */
import { cache } from '@acache/core'
import { CircuitOpenError, RedisCache, RedisUnavailableError } from '../src/index.js'
import { connect, sleep, type TestClient } from './support/clients.js'
import { RedisServer } from './support/redis-server.js'

let server: RedisServer
let client: TestClient
let raw: TestClient
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled)
  server = await RedisServer.start()
  client = await connect(server.url)
  raw = await connect(server.url)
})

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  client?.destroy()
  raw?.destroy()
  await server?.stop()
})

const LOADER_MS = 20

/** 50 callers looping over `cache()` until stopped; records every call's latency and error. */
function load(store: RedisCache, keys = 100) {
  let loads = 0
  const get = cache(0.3, { key: 'item:{0}', store })(async (id: number) => {
    loads++
    await sleep(LOADER_MS)
    return { id, at: Date.now() }
  })
  const state = { running: true, calls: 0, errors: [] as unknown[], latencies: [] as Array<[number, number]> }
  const worker = async () => {
    while (state.running) {
      const id = Math.floor(Math.random() * keys)
      const t0 = performance.now()
      try {
        const v = await get(id)
        if (v.id !== id) throw new Error('wrong value')
      } catch (error) {
        state.errors.push(error)
      }
      state.latencies.push([t0, performance.now() - t0])
      state.calls++
      await sleep(1)
    }
  }
  const workers = Array.from({ length: 50 }, worker)
  return {
    state,
    get loads() {
      return loads
    },
    stop: async () => {
      state.running = false
      await Promise.all(workers)
    },
  }
}

test('SIGKILL and restart mid-load: no caller errors, no unhandled rejections, Redis in use again within 5 s', async () => {
  const store = new RedisCache(client, { prefix: 'kill:', logger: null }) // default deadline and breaker
  const run = load(store)
  await sleep(1000)
  expect(await raw.dbSize()).toBeGreaterThan(0) // the load reaches Redis
  await server.kill()
  await sleep(1500)
  const callsWhileDown = run.state.calls
  await server.restart()
  const restartedAt = performance.now()
  // Writes from the load reach the new (empty) server…
  let back = -1
  while (performance.now() - restartedAt < 8000) {
    if (raw.isReady && (await raw.dbSize().catch(() => 0)) > 0) {
      back = performance.now() - restartedAt
      break
    }
    await sleep(50)
  }
  // …and reads are served from it: a key written there is a hit for the store.
  await raw.set('kill:probe', Buffer.from('7ff000000000000041d954fc400000007b2261223a317d', 'hex'))
  expect(await store.get('probe')).toEqual({ a: 1 })
  await run.stop()
  store.close()
  console.log(`kill/restart: ${run.state.calls} calls (${run.state.calls - callsWhileDown} after restart), Redis in use ${Math.round(back)} ms after restart`)
  expect(back).toBeGreaterThanOrEqual(0)
  expect(back).toBeLessThan(5000)
  expect(run.state.errors).toEqual([])
  expect(unhandled).toEqual([])
}, 30_000)

test('SIGSTOP for 3 s mid-load: every call completes within the deadline + loader time; recovers after SIGCONT', async () => {
  const store = new RedisCache(client, { prefix: 'stop:', timeout: '500ms', logger: null })
  const run = load(store)
  await sleep(800)
  server.pause()
  const pausedAt = performance.now()
  await sleep(3000)
  server.resume()
  const resumedAt = performance.now()
  // recovery: the breaker probes again within its 5 s cool-down and the load's writes land again
  const before = Number((await raw.info('stats')).match(/total_commands_processed:(\d+)/)![1])
  let recovered = -1
  while (performance.now() - resumedAt < 9000) {
    if (store.circuitState === 'closed' && (await raw.exists('stop:probe')) === 0) {
      await store.set('probe', 1, 60)
      if ((await raw.exists('stop:probe')) === 1) {
        recovered = performance.now() - resumedAt
        break
      }
    }
    await sleep(50)
  }
  await run.stop()
  store.close()
  const after = Number((await raw.info('stats')).match(/total_commands_processed:(\d+)/)![1])
  const duringPause = run.state.latencies.filter(([t0]) => t0 >= pausedAt - 600 && t0 < resumedAt)
  const max = Math.max(...duringPause.map(([, ms]) => ms))
  console.log(`SIGSTOP: ${duringPause.length} calls around the pause, max latency ${Math.round(max)} ms; recovered ${Math.round(recovered)} ms after SIGCONT`)
  expect(duringPause.length).toBeGreaterThan(100) // the callers kept being served while Redis hung
  // the deadline (an upper bound) + loader (20) + a margin for timer lateness on a loaded machine
  expect(max).toBeLessThan(500 + LOADER_MS + 250)
  expect(run.state.errors).toEqual([])
  expect(recovered).toBeGreaterThanOrEqual(0)
  expect(recovered).toBeLessThan(6000)
  expect(after).toBeGreaterThan(before)
  expect(unhandled).toEqual([])
}, 30_000)

test('the breaker opens after N failures (skips Redis at once), probes half-open after the cool-down, closes on success', async () => {
  const seen: unknown[] = []
  const store = new RedisCache(client, { prefix: 'brk:', timeout: '100ms', breaker: { failures: 3, cooldown: '1s' }, onError: (e) => seen.push(e) })
  await store.set('k', 'v', 60)
  server.pause()
  try {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      expect(await store.get('k')).toBeUndefined() // a miss, not an error
      expect(performance.now() - t0).toBeGreaterThanOrEqual(95)
    }
    expect(store.circuitState).toBe('open')
    const t0 = performance.now()
    expect(await store.get('k')).toBeUndefined()
    expect(performance.now() - t0).toBeLessThan(20) // ≪ the deadline: Redis was not asked
    expect(seen.at(-1)).toBeInstanceOf(CircuitOpenError)
    expect(seen.slice(0, 3).map((e) => (e as Error).name)).toEqual(['TimeoutError', 'TimeoutError', 'TimeoutError'])
    await sleep(1050)
    // half-open: one probe goes out (and fails, Redis still hung) → open again
    const probe = store.get('k')
    expect(store.circuitState).toBe('half-open')
    expect(await store.get('k')).toBeUndefined() // others skip while the probe is out
    expect(seen.at(-1)).toBeInstanceOf(CircuitOpenError)
    expect(await probe).toBeUndefined()
    expect(store.circuitState).toBe('open')
  } finally {
    server.resume()
  }
  await sleep(1050)
  expect(await store.get('k')).toBe('v') // the probe succeeds…
  expect(store.circuitState).toBe('closed') // …and closes the circuit
  expect(await store.get('k')).toBe('v')
  await expect(new RedisCache(client, { prefix: 'brk:', onError: 'raise', timeout: '100ms' }).tryLock('k', 1)).resolves.not.toBeNull()
  store.close()
}, 20_000)

test("onError 'raise' rethrows; a disconnected client fails at once; tryLock rejects when Redis is unavailable", async () => {
  const lonely = await connect(server.url)
  const store = new RedisCache(lonely, { prefix: 'r:', onError: 'raise' })
  await lonely.close()
  const t0 = performance.now()
  await expect(store.get('k')).rejects.toBeInstanceOf(RedisUnavailableError)
  await expect(store.set('k', 1, 1)).rejects.toBeInstanceOf(RedisUnavailableError)
  await expect(store.tryLock('k', 1)).rejects.toBeInstanceOf(RedisUnavailableError)
  expect(performance.now() - t0).toBeLessThan(50)
  const silent = new RedisCache(lonely, { prefix: 'r:', logger: null })
  await expect(silent.tryLock('k', 1)).rejects.toBeInstanceOf(RedisUnavailableError)
  expect(await silent.get('k')).toBeUndefined()
  store.close()
  silent.close()
})
