import { InMemoryMetrics, StoreErrorPolicy } from '../src/index.js'

describe('StoreErrorPolicy', () => {
  const boom = new Error('connection refused')

  test('silent (default): reports to metrics and a rate-limited warning, returns the fallback', () => {
    const metrics = new InMemoryMetrics()
    const warnings: string[] = []
    const policy = new StoreErrorPolicy('RedisCache', { metrics, logger: { warn: (m) => warnings.push(m) } })
    expect(policy.fail(boom, 'get', 'k1', undefined)).toBeUndefined()
    expect(policy.fail(boom, 'get', 'k2', 'fallback')).toBe('fallback')
    expect(policy.fail(boom, 'set', 'k1', undefined)).toBeUndefined()
    expect(metrics.getStats().errors).toEqual({ 'RedisCache.get': { Error: 2 }, 'RedisCache.set': { Error: 1 } })
    expect(warnings).toHaveLength(2) // one per operation per minute
    expect(warnings[0]).toContain('RedisCache get failed (key "k1")')
  })

  test("'raise' reports and rethrows, without a warning", () => {
    const metrics = new InMemoryMetrics()
    const warnings: string[] = []
    const policy = new StoreErrorPolicy('S3Cache', { onError: 'raise', metrics, logger: { warn: (m) => warnings.push(m) } })
    expect(() => policy.fail(boom, 'get', 'k', undefined)).toThrow(boom)
    expect(policy.raise).toBe(true)
    expect(metrics.getStats().errors).toEqual({ 'S3Cache.get': { Error: 1 } })
    expect(warnings).toEqual([])
  })

  test('a callback receives every failure (no warning) and a throwing callback is contained', () => {
    const seen: unknown[] = []
    const policy = new StoreErrorPolicy('GCSCache', { onError: (error, info) => seen.push([error, info]) })
    expect(policy.fail(boom, 'delete', 'k', 'x')).toBe('x')
    policy.report(boom, 'connection')
    expect(seen).toEqual([
      [boom, { cacheName: 'GCSCache', key: 'k', operation: 'delete' }],
      [boom, { cacheName: 'GCSCache', key: '', operation: 'connection' }],
    ])
    const warnings: string[] = []
    const throwing = new StoreErrorPolicy('X', {
      onError: () => {
        throw new Error('handler bug')
      },
      logger: { warn: (m) => warnings.push(m) },
    })
    expect(throwing.fail(boom, 'get', 'k', 1)).toBe(1)
    expect(warnings).toEqual(['acache: onError of X threw while handling a get failure'])
  })

  test('a bad onError is a TypeError naming the option', () => {
    expect(() => new StoreErrorPolicy('RedisCache', { onError: 'loud' as never })).toThrow(TypeError)
    expect(() => new StoreErrorPolicy('RedisCache', { onError: 'loud' as never })).toThrow(/"onError"/)
  })
})
