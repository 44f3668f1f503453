import { DEAD, FRESH, STALE, entryState, freshUntilOf, mayRetryRefresh, physicalTtl } from '../src/freshness.js'

describe('timing rules', () => {
  test('fresh while now < freshUntil', () => {
    expect(entryState(100, 99.999, 0)).toBe(FRESH)
    expect(entryState(100, 100, 0)).toBe(DEAD)
  })
  test('stale until freshUntil + stale inclusive, dead after', () => {
    expect(entryState(100, 100, 30)).toBe(STALE)
    expect(entryState(100, 130, 30)).toBe(STALE)
    expect(entryState(100, 130.0001, 30)).toBe(DEAD)
  })
  test('an entry without expiry is always fresh', () => {
    expect(entryState(Infinity, 1e12, 0)).toBe(FRESH)
    expect(freshUntilOf(5, 0)).toBe(Infinity)
    expect(freshUntilOf(5, 10)).toBe(15)
  })
  test('physical lifetime covers the stale window', () => {
    expect(physicalTtl(60, 30)).toBe(90)
  })
  test('a failed refresh may be retried after a second', () => {
    expect(mayRetryRefresh(undefined, 10)).toBe(true)
    expect(mayRetryRefresh(10, 10.999)).toBe(false)
    expect(mayRetryRefresh(10, 11)).toBe(true)
  })
})
