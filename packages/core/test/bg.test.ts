import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { bg, InMemCache } from '../src/index.js'
import { asyncStore } from './support/async-store.js'
import { advance, T0, useFakeClock } from './support/fake-clock.js'
import { InMemoryMetrics } from '../src/metrics.js'

const silent = { warn: () => {} }

useFakeClock(() => bg.shutdown())

describe('bg', () => {
  test('loads at registration, then ticks every interval from registration', async () => {
    const loader = jest.fn(() => Date.now() - T0)
    const get = bg(10, { key: 'flags' })(loader)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(get()).toBe(0)
    await advance(9.999)
    expect(loader).toHaveBeenCalledTimes(1)
    await advance(0.001)
    expect(loader).toHaveBeenCalledTimes(2)
    expect(get()).toBe(10_000)
    await advance(30)
    expect(loader).toHaveBeenCalledTimes(5)
    expect(get()).toBe(40_000)
  })

  test('with runImmediately: false the first load is a tick, one interval after registration', async () => {
    const loader = jest.fn(async () => 'v')
    bg(5, { key: 'k', runImmediately: false })(loader)
    expect(loader).toHaveBeenCalledTimes(0)
    await advance(5)
    expect(loader).toHaveBeenCalledTimes(1)
    await advance(5)
    expect(loader).toHaveBeenCalledTimes(2)
  })

  test('a store that already holds a fresh value skips the immediate load but still ticks', async () => {
    const store = new InMemCache()
    store.set('rates', { usd: 1 }, 100)
    const loader = jest.fn(async () => ({ usd: 2 }))
    const get = bg(10, { key: 'rates', store })(loader)
    expect(loader).toHaveBeenCalledTimes(0)
    expect(await get()).toEqual({ usd: 1 })
    await advance(10)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(await get()).toEqual({ usd: 2 })
  })

  test('ttl defaults to 2 × interval', async () => {
    const store = new InMemCache()
    bg(30, { key: 'x', store })(() => 1)
    const e = store.getEntry('x')!
    expect(e.freshUntil - e.createdAt).toBe(60)
  })

  test('ticks never overlap: a tick that finds the loader still running is skipped', async () => {
    let running = 0
    let maxRunning = 0
    const loader = jest.fn(async () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      await new Promise((r) => setTimeout(r, 25_000))
      running--
      return 1
    })
    bg(10, { key: 'slow' })(loader)
    await advance(60)
    expect(maxRunning).toBe(1)
    // Runs start at 0 and end at 25, 50: ticks at 30 and 60 start new runs; 10, 20, 40, 50 are skipped.
    expect(loader).toHaveBeenCalledTimes(3)
  })

  test('a failed tick is reported (onError, metrics) and keeps the last value; a throwing onError is contained', async () => {
    let n = 0
    const errors: string[] = []
    const metrics = new InMemoryMetrics()
    const get = bg(10, {
      key: 'f',
      metrics,
      onError: (e, info) => {
        errors.push(`${info.operation}:${(e as Error).message}`)
        throw new Error('handler bug')
      },
      logger: silent,
    })(async () => {
      if (++n === 2) throw new Error('down')
      return n
    })
    await advance(0)
    expect(await get()).toBe(1)
    await advance(10)
    expect(errors).toEqual(['tick:down'])
    expect(await get()).toBe(1)
    await advance(10)
    expect(await get()).toBe(3)
    expect(metrics.getStats().backgroundRefresh.f).toEqual({ success: 2, failure: 1 })
  })

  test('on a local miss the getter runs the loader and gets its error', async () => {
    const get = bg(10, { key: 'm', runImmediately: false, logger: silent })(async () => {
      throw new Error('cold and failing')
    })
    await expect(get()).rejects.toThrow('cold and failing')
  })

  test('bad options throw TypeErrors naming them', () => {
    expect(() => bg(0, { key: 'a' })(() => 1)).toThrow(/interval/)
    expect(() => bg(10, {} as any)(() => 1)).toThrow(/key/)
    expect(() => bg(10, { key: 'a', ttl: 'soon' })(() => 1)).toThrow(/ttl/)
    expect(() => bg(10, { key: 'a', runImmediately: 1 } as any)(() => 1)).toThrow(/runImmediately/)
  })

  test('shutdown stops every timer, is idempotent, and new registrations work after it', async () => {
    const loader = jest.fn(() => 1)
    bg(1, { key: 'a' })(loader)
    await bg.shutdown()
    await bg.shutdown()
    await advance(5)
    expect(loader).toHaveBeenCalledTimes(1)
    const again = jest.fn(() => 2)
    const get = bg(1, { key: 'a' })(again)
    await advance(2)
    expect(again).toHaveBeenCalledTimes(3)
    expect(get()).toBe(2)
  })
})

describe('bg.write / bg.read', () => {
  test('one writer per key per process; shutdown releases it', async () => {
    bg.write(10, { key: 'rates' })(() => 1)
    expect(() => bg.write(10, { key: 'rates' })(() => 2)).toThrow(/"rates"/)
    await bg.shutdown()
    expect(() => bg.write(10, { key: 'rates' })(() => 3)).not.toThrow()
  })

  test('a reader with no store finds the same-process writer and mirrors it every interval', async () => {
    let n = 0
    const read = bg.read<number>('counter', { interval: 5 })
    expect(read()).toBeUndefined() // no writer yet
    bg.write(10, { key: 'counter' })(() => ++n)
    await advance(5)
    expect(read()).toBe(1)
    await advance(5) // writer ticks at 10 → 2; the reader's sync at 10 may run before it
    await advance(5)
    expect(read()).toBe(2)
  })

  test('the reader keeps a private mirror: it serves its copy when the source loses the key', async () => {
    const store = asyncStore()
    bg.write(10, { key: 'shared', store })(async () => 'v1')
    await advance(0)
    const read = bg.read<string>('shared', { interval: 5, store })
    await advance(0)
    expect(read()).toBe('v1')
    store.inner.clear()
    await advance(5)
    expect(read()).toBe('v1')
  })

  test('interval 0 pulls on a local miss and keeps the copy for its ttl only', async () => {
    const source = new InMemCache()
    source.set('cfg', 'a', 0)
    const read = bg.read<string>('cfg', { interval: 0, store: source, ttl: 30 })
    expect(read()).toBe('a')
    source.set('cfg', 'b', 0)
    await advance(30) // the end of the ttl is inclusive
    expect(read()).toBe('a')
    await advance(0.001)
    expect(read()).toBe('b')
  })

  test('interval 0 over an asynchronous source returns a promise on a local miss', async () => {
    const store = asyncStore()
    await store.set('k', 42, 0)
    const read = bg.read<number>('k', { store })
    expect(await read()).toBe(42)
    expect(read()).toBe(42)
  })

  test('interval 0 with a discovered writer keeps the copy for the writer ttl', async () => {
    let n = 0
    bg.write(10, { key: 'w', ttl: 20 })(() => ++n)
    const read = bg.read<number>('w')
    expect(read()).toBe(1)
    await advance(20) // the writer ticked at 10 and 20; the mirror keeps its copy through its ttl
    expect(read()).toBe(1)
    await advance(0.001)
    expect(read()).toBe(3)
  })
})

test('background timers never keep the process alive', () => {
  const dist = join(__dirname, '..', 'dist', 'cjs', 'index.js')
  const script = `
    const { bg, cache } = require(${JSON.stringify(dist)})
    bg(3600, { key: 'a' })(async () => 1)
    bg.write(3600, { key: 'b' })(() => 2)
    bg.read('b', { interval: 3600 })
    const f = cache(1, { stale: 3600 })(async () => 1)
    f().then(() => f())
  `
  const started = Date.now()
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 10_000 })
  expect({ status: r.status, stderr: String(r.stderr) }).toEqual({ status: 0, stderr: '' })
  expect(Date.now() - started).toBeLessThan(5000)
})
