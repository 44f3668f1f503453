import { forEachBounded } from '../src/index.js'

/** A promise resolved (or rejected) from outside, to hold tasks in flight. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets every queued promise callback run. */
const flush = () => new Promise((resolve) => setImmediate(resolve))

describe('forEachBounded', () => {
  test('keeps at most `limit` tasks in flight and runs every item once, with its index', async () => {
    let inFlight = 0
    let peak = 0
    const seen: Array<[number, number]> = []
    const items = Array.from({ length: 25 }, (_, i) => i * 10)
    await forEachBounded(items, 4, async (item, index) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await flush()
      seen.push([item, index])
      inFlight--
    })
    expect(peak).toBe(4)
    expect(seen.sort((a, b) => a[1] - b[1])).toEqual(items.map((item, i) => [item, i]))
  })

  test('a limit above the number of items starts one task per item', async () => {
    let peak = 0
    let inFlight = 0
    await forEachBounded([1, 2, 3], 16, async () => {
      peak = Math.max(peak, ++inFlight)
      await flush()
      inFlight--
    })
    expect(peak).toBe(3)
  })

  test('empty input resolves without calling the task', async () => {
    const task = jest.fn(async () => undefined)
    await expect(forEachBounded([], 4, task)).resolves.toBeUndefined()
    expect(task).not.toHaveBeenCalled()
  })

  test('the first failure stops new tasks and rejects only after the tasks in flight have settled', async () => {
    const gates = [deferred(), deferred(), deferred()]
    const started: number[] = []
    const finished: number[] = []
    let settled = false
    const first = new Error('first')
    const run = forEachBounded([0, 1, 2, 3, 4, 5], 3, async (i) => {
      started.push(i)
      await gates[i].promise
      finished.push(i)
    }).then(
      () => {
        settled = true
        return undefined
      },
      (error: unknown) => {
        settled = true
        return error
      },
    )
    await flush()
    expect(started).toEqual([0, 1, 2])

    gates[1].reject(first)
    await flush()
    expect(settled).toBe(false) // 0 and 2 are still in flight
    gates[2].reject(new Error('second'))
    await flush()
    expect(settled).toBe(false)
    gates[0].resolve()
    expect(await run).toBe(first)
    expect(started).toEqual([0, 1, 2]) // nothing started after the failure
    expect(finished).toEqual([0])
  })

  test('later failures leave no unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const run = forEachBounded([1, 2, 3, 4], 4, async (i) => {
        await flush()
        throw new Error(`task ${i}`)
      })
      await expect(run).rejects.toThrow('task 1')
      await flush()
      await flush()
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  test('a task that throws synchronously rejects the same way', async () => {
    const task = (i: number): Promise<void> => {
      if (i === 0) throw new TypeError('bad item')
      return Promise.resolve()
    }
    await expect(forEachBounded([0, 1], 1, task)).rejects.toThrow(TypeError)
  })
})
