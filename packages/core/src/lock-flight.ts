import { preciseNow } from './clock.js'
import { parseDuration } from './duration.js'
import { checkOptionKeys } from './error-reporting.js'
import { supportsLocking } from './store-resolution.js'
import type { CacheEntry, CacheLock, CacheStorage, LockingStorage } from './types.js'

/**
 * Distributed single-flight (`cache(ttl, { store, lock: true })`): the process that takes the
 * store's lock for a key runs the loader; the others wait for its value by polling the store.
 * The in-process single flight comes first, so one process asks for the lock once per key.
 */

/** How long a lock lives without its holder's heartbeat (a crashed holder blocks others this long). Seconds. */
export const DEFAULT_LOCK_TIMEOUT = 10
/** A waiter polls the store first after this many seconds, then 1.5× longer each time, up to {@link LOCK_POLL_MAX}. */
export const LOCK_POLL_FIRST = 0.01
export const LOCK_POLL_MAX = 0.25

/** Validated `lock` option. */
export interface LockSettings {
  /** Seconds: the lock's lifetime without a heartbeat, and how long a waiter waits before loading itself. */
  timeout: number
}

/** `true`, or `{ timeout }` (a duration, default {@link DEFAULT_LOCK_TIMEOUT} s). */
export type LockOption = boolean | { timeout?: number | string }

/**
 * Parses the `lock` option (the store is checked by {@link checkLockStore} once it is known).
 *
 * @example
 * parseLock(true)                 // { timeout: 10 }
 * parseLock({ timeout: '30s' })   // { timeout: 30 }
 * parseLock(false)                // undefined
 */
export function parseLock(value: unknown): LockSettings | undefined {
  if (value === undefined || value === false) return undefined
  let timeout = DEFAULT_LOCK_TIMEOUT
  if (value !== true) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new TypeError('cache(): option "lock" must be true, false or { timeout }')
    }
    checkOptionKeys('cache(): option "lock"', value, ['timeout'])
    const t = (value as { timeout?: unknown }).timeout
    if (t !== undefined) timeout = parseDuration(t, 'lock.timeout', { allowZero: false })
  }
  return { timeout }
}

/**
 * Throws a `TypeError` naming the `lock` option when `store` cannot lock.
 *
 * @example
 * checkLockStore(new InMemCache()) // TypeError: cache(): option "lock" needs a store that implements tryLock …
 */
export function checkLockStore(store: CacheStorage): asserts store is CacheStorage & LockingStorage {
  if (!supportsLocking(store)) {
    throw new TypeError(
      'cache(): option "lock" needs a store that implements tryLock(key, timeout) (a LockingStorage): ' +
        'RedisCache from @acache/redis, or a HybridCache / ChainCache whose deepest level is one. ' +
        'An in-process store needs no lock: the in-process single flight already runs one load per key.',
    )
  }
}

/** What trying for the lock came to. */
export type LockOutcome =
  /** This process holds the lock: load, write, then release. */
  | { kind: 'held'; lock: CacheLock }
  /** Another process wrote a usable value meanwhile. */
  | { kind: 'value'; value: unknown }
  /** No lock to be had (the lock backend failed, or the wait bound passed): load locally. */
  | { kind: 'local' }
  /** Held elsewhere and the caller does not wait (a background refresh): skip. */
  | { kind: 'busy' }

/** What {@link acquireLock} needs from the engine. */
export interface LockRequest {
  store: CacheStorage & LockingStorage
  key: string
  timeout: number
  /** Reads the entry; a failed read counts as no entry. */
  read(): Promise<CacheEntry | undefined>
  /** Whether an entry answers this load (for a miss: not dead; for a refresh: newer than the one refreshed). */
  usable(entry: CacheEntry): boolean
  /** Background refreshes skip when another process holds the lock. */
  wait: boolean
  /** Reports a failing lock backend (the load then runs locally). */
  onLockError(error: unknown): void
}

const sleep = (seconds: number) => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000))

/**
 * Takes the lock of `key`, or waits for the process holding it to write a value. A waiter polls
 * the entry with a growing delay ({@link LOCK_POLL_FIRST} ×1.5 up to {@link LOCK_POLL_MAX}) and
 * asks for the lock again each time, so it takes over when the holder released without a value
 * or died (its lock expired). After `timeout` seconds of waiting it gives up and loads locally.
 *
 * @example
 * const outcome = await acquireLock({ store, key, timeout: 10, read, usable, wait: true, onLockError })
 */
export async function acquireLock(request: LockRequest): Promise<LockOutcome> {
  const { store, key, timeout } = request
  const giveUpAt = preciseNow() + timeout
  let delay = LOCK_POLL_FIRST
  for (;;) {
    let lock: CacheLock | null
    try {
      lock = await store.tryLock(key, timeout)
    } catch (error) {
      request.onLockError(error)
      return { kind: 'local' }
    }
    if (lock !== null) {
      // Another process may have written between our miss and our lock.
      const entry = await request.read()
      if (entry !== undefined && request.usable(entry)) {
        await releaseQuietly(lock)
        return { kind: 'value', value: entry.value }
      }
      return { kind: 'held', lock }
    }
    if (!request.wait) return { kind: 'busy' }
    if (preciseNow() >= giveUpAt) return { kind: 'local' }
    await sleep(delay)
    delay = Math.min(delay * 1.5, LOCK_POLL_MAX)
    const entry = await request.read()
    if (entry !== undefined && request.usable(entry)) return { kind: 'value', value: entry.value }
  }
}

/** `release()` must not reject by contract; a broken implementation must still not break the caller. */
export async function releaseQuietly(lock: CacheLock): Promise<void> {
  try {
    await lock.release()
  } catch {
    // Its lifetime bounds it anyway.
  }
}
