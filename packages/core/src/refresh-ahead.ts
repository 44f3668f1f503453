import { preciseNow } from './clock.js'
import { parseDuration } from './duration.js'
import { checkOptionKeys } from './error-reporting.js'
import { ended, whileRunning } from './shutdown.js'
import type { CacheEntry } from './types.js'

/**
 * Refresh-ahead ("never die"): a key that is being read is refreshed in the background before it
 * expires, at `createdAt + at × ttl`, so callers never wait after its first load. A failed refresh
 * keeps the last good value (served, and kept physically in the store) and is retried with a
 * growing delay. A key not read for `idle` seconds is dropped from the schedule and then expires
 * normally. One unref'ed timer per scheduled key, none for dropped keys; `bg.shutdown()` stops all.
 */

/** Default share of the TTL after which a key is refreshed. */
export const REFRESH_AHEAD_AT = 0.9
/** First retry delay after a failed refresh (seconds); each further failure multiplies it by {@link REFRESH_AHEAD_BACKOFF_FACTOR}. */
export const REFRESH_AHEAD_BACKOFF_INITIAL = 1
/** Default cap of the retry delay (seconds). */
export const REFRESH_AHEAD_BACKOFF_MAX = 60
export const REFRESH_AHEAD_BACKOFF_FACTOR = 1.25
/** Default `idle`, as a multiple of the TTL. */
export const REFRESH_AHEAD_IDLE_TTLS = 2

/** The `refreshAhead` option: `true`, or `{ at?, backoff?: { initial?, max? }, idle? }`. */
export type RefreshAheadOption =
  | boolean
  | {
      at?: number
      backoff?: { initial?: number | string; max?: number | string }
      idle?: number | string
    }

/** Validated `refreshAhead` option (seconds). */
export interface RefreshAheadSettings {
  at: number
  initial: number
  max: number
  idle: number
}

/**
 * Parses the `refreshAhead` option for a function with `ttl` seconds of freshness.
 *
 * @example
 * parseRefreshAhead(true, 60)                  // { at: 0.9, initial: 1, max: 60, idle: 120 }
 * parseRefreshAhead({ at: 0.5, idle: '10m' }, 60) // { at: 0.5, initial: 1, max: 60, idle: 600 }
 */
export function parseRefreshAhead(value: unknown, ttl: number): RefreshAheadSettings | undefined {
  if (value === undefined || value === false) return undefined
  const out = { at: REFRESH_AHEAD_AT, initial: REFRESH_AHEAD_BACKOFF_INITIAL, max: REFRESH_AHEAD_BACKOFF_MAX, idle: REFRESH_AHEAD_IDLE_TTLS * ttl }
  if (value === true) return out
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError('cache(): option "refreshAhead" must be true, false or { at?, backoff?, idle? }')
  }
  checkOptionKeys('cache(): option "refreshAhead"', value, ['at', 'backoff', 'idle'])
  const { at, backoff, idle } = value as { at?: unknown; backoff?: unknown; idle?: unknown }
  if (at !== undefined) {
    if (typeof at !== 'number' || !(at > 0 && at < 1)) {
      throw new TypeError(`cache(): option "refreshAhead.at" must be a number between 0 and 1, exclusive (got ${String(at)})`)
    }
    out.at = at
  }
  if (backoff !== undefined) {
    if (backoff === null || typeof backoff !== 'object' || Array.isArray(backoff)) {
      throw new TypeError('cache(): option "refreshAhead.backoff" must be { initial?, max? }')
    }
    checkOptionKeys('cache(): option "refreshAhead.backoff"', backoff, ['initial', 'max'])
    const b = backoff as { initial?: unknown; max?: unknown }
    if (b.initial !== undefined) out.initial = parseDuration(b.initial, 'refreshAhead.backoff.initial', { allowZero: false })
    if (b.max !== undefined) out.max = parseDuration(b.max, 'refreshAhead.backoff.max', { allowZero: false })
    if (out.max < out.initial) {
      throw new TypeError(`cache(): option "refreshAhead.backoff.max" (${out.max} s) must not be shorter than "initial" (${out.initial} s)`)
    }
  }
  if (idle !== undefined) out.idle = parseDuration(idle, 'refreshAhead.idle', { allowZero: false })
  return out
}

/** The retry delay after `failures` consecutive failed refreshes (1 or more). */
export function refreshAheadBackoff(settings: RefreshAheadSettings, failures: number): number {
  return Math.min(settings.initial * REFRESH_AHEAD_BACKOFF_FACTOR ** (failures - 1), settings.max)
}

/** What the scheduler needs from the engine. */
export interface RefreshAheadHost {
  readonly ttl: number
  /** Reads the entry (a failed read counts as none). */
  readEntry(key: string): Promise<CacheEntry | undefined>
  /**
   * Refreshes `key` now (joining a load under way): resolves `true` once refreshed, `false` when
   * skipped (another process holds the lock), rejects when the loader failed (already reported).
   */
  refreshAhead(key: string, thisArg: unknown, args: unknown[], entry: CacheEntry | undefined): Promise<boolean>
  /** Keeps the last good entry physically for `seconds` more (it is served while the key is scheduled). */
  keepEntry(key: string, entry: CacheEntry, seconds: number): void
}

interface Scheduled {
  thisArg: unknown
  args: unknown[]
  /** Epoch seconds of the last read. */
  lastRead: number
  failures: number
  timer: ReturnType<typeof setTimeout> | undefined
}

/** The refresh-ahead schedule of one cached function. */
export class RefreshAhead {
  private readonly keys = new Map<string, Scheduled>()
  private stopped = false
  private readonly stopper = { stop: () => this.stop() }

  constructor(
    private readonly host: RefreshAheadHost,
    readonly settings: RefreshAheadSettings,
  ) {}

  /**
   * A read (or a completed load) of `key` at `now`: keeps it scheduled. With `createdAt` (the
   * entry's), arms its refresh if none is armed.
   */
  touch(key: string, thisArg: unknown, args: unknown[], now: number, createdAt?: number): void {
    if (this.stopped) return
    let s = this.keys.get(key)
    if (s === undefined) {
      s = { thisArg, args, lastRead: now, failures: 0, timer: undefined }
      if (this.keys.size === 0) whileRunning(this.stopper)
      this.keys.set(key, s)
    } else {
      s.lastRead = now
    }
    if (createdAt !== undefined && s.timer === undefined) this.arm(key, s, createdAt + this.settings.at * this.host.ttl)
  }

  /** A value of `key` was written at `createdAt`: its next refresh is due at `createdAt + at × ttl`. */
  written(key: string, createdAt: number): void {
    const s = this.keys.get(key)
    if (s === undefined) return
    s.failures = 0
    if (s.timer !== undefined) clearTimeout(s.timer)
    this.arm(key, s, createdAt + this.settings.at * this.host.ttl)
  }

  /** Whether `key` is scheduled, so its last good value is served even past its TTL. */
  keeps(key: string): boolean {
    return this.keys.has(key)
  }

  forget(key: string): void {
    const s = this.keys.get(key)
    if (s === undefined) return
    if (s.timer !== undefined) clearTimeout(s.timer)
    this.keys.delete(key)
    if (this.keys.size === 0) ended(this.stopper)
  }

  forgetAll(): void {
    for (const s of this.keys.values()) if (s.timer !== undefined) clearTimeout(s.timer)
    this.keys.clear()
    ended(this.stopper)
  }

  /** Stops for good (`bg.shutdown()`): no timers, nothing scheduled, entries then expire normally. */
  stop(): void {
    this.stopped = true
    this.forgetAll()
  }

  /** How many keys are scheduled (for tests and diagnostics). */
  get size(): number {
    return this.keys.size
  }

  private arm(key: string, s: Scheduled, at: number): void {
    // Whole milliseconds: timers do not keep fractions, and schedules stay exact.
    const timer = setTimeout(() => this.fire(key, s), Math.max(0, Math.round((at - preciseNow()) * 1000)))
    // A cache must never keep the process alive.
    if (typeof timer === 'object' && timer !== null && typeof timer.unref === 'function') timer.unref()
    s.timer = timer
  }

  private fire(key: string, s: Scheduled): void {
    s.timer = undefined
    if (this.keys.get(key) !== s) return
    // Not read for longer than `idle`: stop refreshing; the entry expires normally.
    if (preciseNow() - s.lastRead > this.settings.idle) {
      this.forget(key)
      return
    }
    void this.run(key, s)
  }

  private async run(key: string, s: Scheduled): Promise<void> {
    const entry = await this.host.readEntry(key)
    if (this.keys.get(key) !== s) return
    const due = entry === undefined ? 0 : entry.createdAt + this.settings.at * this.host.ttl
    if (due > preciseNow()) {
      // Refreshed meanwhile (another process, or refresh()): due later.
      if (s.timer === undefined) this.arm(key, s, due)
      return
    }
    let refreshed: boolean
    try {
      refreshed = await this.host.refreshAhead(key, s.thisArg, s.args, entry)
    } catch {
      if (this.keys.get(key) !== s) return
      s.failures++
      const delay = refreshAheadBackoff(this.settings, s.failures)
      // The last good value must still be there after the next attempt.
      if (entry !== undefined) this.host.keepEntry(key, entry, delay + this.host.ttl)
      if (s.timer !== undefined) clearTimeout(s.timer)
      this.arm(key, s, preciseNow() + delay)
      return
    }
    // Skipped (another process is refreshing): look again after the initial backoff. A refresh
    // that wrote re-armed through written().
    if (!refreshed && this.keys.get(key) === s && s.timer === undefined) this.arm(key, s, preciseNow() + this.settings.initial)
  }
}
