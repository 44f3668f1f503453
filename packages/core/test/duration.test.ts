import { parseDuration } from '../src/duration.js'

describe('parseDuration', () => {
  test.each([
    [30, 30],
    [0.25, 0.25],
    [0, 0],
    ['250ms', 0.25],
    ['30s', 30],
    ['5m', 300],
    ['1h', 3600],
    ['1d', 86400],
    ['1w', 604800],
    ['30', 30],
    ['1.5s', 1.5],
    ['.5s', 0.5],
    ['  10m  ', 600],
    ['10 min', 600],
    ['2 hours', 7200],
    ['1500MS', 1.5],
    ['0', 0],
  ])('%p is %p seconds', (input, seconds) => {
    expect(parseDuration(input, 'ttl')).toBe(seconds)
  })

  test('-0 is normalised to 0', () => {
    expect(Object.is(parseDuration(-0, 'ttl'), 0)).toBe(true)
  })

  test.each([['5 parsecs'], [''], ['s'], ['1.2.3s'], ['5 m s'], ['constructor'], ['1constructor'], ['1e400s']])(
    'rejects the string %p, naming the option',
    (input) => {
      expect(() => parseDuration(input, 'stale')).toThrow(TypeError)
      expect(() => parseDuration(input, 'stale')).toThrow(
        `option "stale" must be a duration in seconds or a string like '30s' or '5m' (got '${input}')`,
      )
    },
  )

  test('the exact message for a bad unit', () => {
    expect(() => parseDuration('5 parsecs', 'stale')).toThrow(
      new TypeError(`option "stale" must be a duration in seconds or a string like '30s' or '5m' (got '5 parsecs')`),
    )
  })

  test.each([
    [NaN, 'NaN'],
    [null, 'null'],
    [undefined, 'undefined'],
    [{}, 'an object'],
    [[1], 'an array'],
    [true, 'true'],
    [5n, '5n'],
    [() => 1, 'a function'],
  ])('rejects %p', (input, got) => {
    expect(() => parseDuration(input, 'interval')).toThrow(TypeError)
    expect(() => parseDuration(input, 'interval')).toThrow(`option "interval" must be a duration in seconds`)
    expect(() => parseDuration(input, 'interval')).toThrow(`(got ${got})`)
  })

  test('negative values only with allowNegative', () => {
    expect(() => parseDuration(-1, 'stale')).toThrow(new TypeError('option "stale" must not be negative (got -1)'))
    expect(() => parseDuration('-5s', 'stale')).toThrow(`option "stale" must not be negative (got '-5s')`)
    expect(parseDuration(-1, 'ttl', { allowNegative: true })).toBe(-1)
    expect(parseDuration('-250ms', 'ttl', { allowNegative: true })).toBe(-0.25)
  })

  test('zero is allowed unless allowZero is false', () => {
    expect(parseDuration(0, 'stale')).toBe(0)
    expect(() => parseDuration(0, 'interval', { allowZero: false })).toThrow(
      new TypeError('option "interval" must be greater than 0 (got 0)'),
    )
    expect(() => parseDuration('0s', 'interval', { allowZero: false })).toThrow(`option "interval" must be greater than 0`)
  })

  test('Infinity only with allowInfinity', () => {
    expect(() => parseDuration(Infinity, 'ttl')).toThrow(
      new TypeError('option "ttl" must be a finite duration (got Infinity)'),
    )
    expect(parseDuration(Infinity, 'ttl', { allowInfinity: true })).toBe(Infinity)
    expect(() => parseDuration(-Infinity, 'ttl', { allowInfinity: true, allowNegative: true })).toThrow(TypeError)
    expect(() => parseDuration('Infinity', 'ttl', { allowInfinity: true })).toThrow(TypeError)
  })
})
