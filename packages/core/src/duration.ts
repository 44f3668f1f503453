/**
 * Durations: numbers are seconds (floats allowed), strings carry a unit (`'250ms'`, `'30s'`,
 * `'5m'`, `'1h'`, `'1d'`). Every option that takes a duration goes through {@link parseDuration}
 * so that units and error messages are the same everywhere.
 */

/** What {@link parseDuration} accepts besides the default (finite, `>= 0`). */
export interface DurationOptions {
  /** Accept `0` (default `true`). `false` for options such as `interval` where 0 makes no sense. */
  allowZero?: boolean
  /** Accept negative values (default `false`). `ttl` allows them: `ttl <= 0` means bypass. */
  allowNegative?: boolean
  /** Accept the number `Infinity` (default `false`). */
  allowInfinity?: boolean
}

// Unit → [multiplier, divisor]. Milliseconds divide (250 / 1000 === 0.25 exactly, whereas
// 250 * 0.001 is not).
const UNITS: Record<string, readonly [number, number]> = {
  ms: [1, 1000],
  msec: [1, 1000],
  msecs: [1, 1000],
  millisecond: [1, 1000],
  milliseconds: [1, 1000],
  s: [1, 1],
  sec: [1, 1],
  secs: [1, 1],
  second: [1, 1],
  seconds: [1, 1],
  m: [60, 1],
  min: [60, 1],
  mins: [60, 1],
  minute: [60, 1],
  minutes: [60, 1],
  h: [3600, 1],
  hr: [3600, 1],
  hrs: [3600, 1],
  hour: [3600, 1],
  hours: [3600, 1],
  d: [86400, 1],
  day: [86400, 1],
  days: [86400, 1],
  w: [604800, 1],
  week: [604800, 1],
  weeks: [604800, 1],
}

const SECONDS = [1, 1] as const

const DURATION_RE = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([a-z]*)$/i

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  if (typeof value === 'number') return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'boolean') return String(value)
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return 'a symbol'
  return typeof value === 'object' ? 'an object' : typeof value
}

function badDuration(optionName: string, value: unknown): TypeError {
  return new TypeError(
    `option "${optionName}" must be a duration in seconds or a string like '30s' or '5m' (got ${describe(value)})`,
  )
}

/**
 * Parse a duration option into **seconds** (a float).
 *
 * Numbers are seconds. Strings are a number with an optional unit (`ms`, `s`, `m`, `h`, `d`,
 * `w`, or the spelled-out forms such as `min` and `hours`), case-insensitive, surrounding
 * whitespace ignored; a bare numeric string is seconds. Throws a `TypeError` naming
 * `optionName` for anything else: NaN, Infinity (unless `allowInfinity`), a negative value
 * (unless `allowNegative`), zero when `allowZero` is `false`, unknown units, non-numbers.
 *
 * @example
 * parseDuration('250ms', 'stale')              // 0.25
 * parseDuration('5m', 'ttl')                   // 300
 * parseDuration(-1, 'ttl', { allowNegative: true }) // -1 (bypass)
 * parseDuration('5 parsecs', 'stale')          // TypeError: option "stale" must be a duration …
 */
export function parseDuration(value: unknown, optionName: string, opts?: DurationOptions): number {
  let seconds: number
  if (typeof value === 'number') {
    seconds = value
    if (Number.isNaN(seconds)) throw badDuration(optionName, value)
  } else if (typeof value === 'string') {
    const m = DURATION_RE.exec(value.trim())
    if (m === null) throw badDuration(optionName, value)
    const unit = m[2].toLowerCase()
    // hasOwn: 'constructor' or 'toString' must not resolve through the prototype.
    const factor = unit === '' ? SECONDS : Object.hasOwn(UNITS, unit) ? UNITS[unit] : undefined
    if (factor === undefined) throw badDuration(optionName, value)
    seconds = (Number(m[1]) * factor[0]) / factor[1]
    // A string that overflows to Infinity ('1e400s') is a typo, never "no expiry".
    if (!Number.isFinite(seconds)) throw badDuration(optionName, value)
  } else {
    throw badDuration(optionName, value)
  }

  if (seconds === Infinity || seconds === -Infinity) {
    if (opts?.allowInfinity !== true || seconds < 0) {
      throw new TypeError(`option "${optionName}" must be a finite duration (got ${describe(value)})`)
    }
    return seconds
  }
  if (seconds < 0 && opts?.allowNegative !== true) {
    throw new TypeError(`option "${optionName}" must not be negative (got ${describe(value)})`)
  }
  if (seconds === 0) {
    if (opts?.allowZero === false) {
      throw new TypeError(`option "${optionName}" must be greater than 0 (got ${describe(value)})`)
    }
    return 0 // normalises -0
  }
  return seconds
}
