import { now as clockNow, preciseNow } from './clock.js'
import type { CacheEntry, CacheStorage } from './types.js'

/**
 * "No expiry" as a lifetime: about 34 years, the largest small integer V8 keeps unboxed. A single
 * `Infinity` stored in a field would make V8 box that field (a separate heap number) in every record.
 */
export const NEVER = 0x3fffffff

/**
 * The `ttl` of a placeholder record: the engine's in-process single flight keeps a load's promise in
 * the store's map, at its key, until the value lands (or the load fails). Placeholders are invisible
 * to every public method (`get`, `exists`, `getEntry`, `getMany`, `size`, `memoryUsage`…).
 */
export const PENDING = -1
/** The `ttl` of a placeholder that was removed or overwritten before its load landed: it never lands. */
const DROPPED = -2

/** A lifetime as stored: `NEVER` for none. */
function span(seconds: number): number {
  return seconds >= NEVER ? NEVER : seconds
}

/**
 * The lifetime from `createdAt` to `until`, as a whole number of seconds when that lands within
 * `tolerance` of `until` (whole seconds stay unboxed small integers), else the exact difference.
 */
function spanTo(createdAt: number, until: number, tolerance: number): number {
  if (until === Infinity) return NEVER
  const exact = until - createdAt
  const whole = Math.round(exact)
  return Math.abs(createdAt + whole - until) <= tolerance ? whole : exact
}

/**
 * One stored entry, kept compact because every cached value carries one: the only boxed number is
 * `createdAt`; the fresh and physical lifetimes are seconds relative to it (small integers in the
 * usual case), and `freshUntil` and the physical expiry are derived ({@link recordFreshUntil}).
 * @internal
 */
export interface MemRecord {
  /** Set on every read, cleared by the eviction hand (SIEVE). */
  visited: boolean
  /**
   * A resolved promise of `value`, made on the first async hit and reused by later ones. On a
   * placeholder (`ttl === PENDING`): the load's promise.
   */
  promise: Promise<unknown> | undefined
  /** The value; on a placeholder, the owner of the load (see {@link InMemCache.hold}). */
  value: unknown
  /** Epoch seconds. */
  createdAt: number
  /** Seconds of freshness after `createdAt` (`NEVER` = always fresh); `PENDING` on a placeholder. */
  ttl: number
  /** Seconds the entry is kept after `createdAt` (`NEVER` = no expiry); inclusive. */
  life: number
}

/**
 * Records are made by this one object literal, not by `new` of a class: V8 tracks the allocation
 * site of a literal and, seeing that its objects survive (as stored entries do), allocates them
 * straight into the old generation, where a class instance would be copied there by the young
 * generation's collector — which made that collector the largest cost of a miss.
 */
function newRecord(value: unknown, createdAt: number, ttl: number, life: number, promise: Promise<unknown> | undefined): MemRecord {
  return { visited: false, promise, value, createdAt, ttl, life }
}

/** The end of a record's fresh period (epoch seconds; `Infinity` when it never goes stale). @internal */
export function recordFreshUntil(rec: MemRecord): number {
  return rec.ttl === NEVER ? Infinity : rec.createdAt + rec.ttl
}

/** A plain `CacheEntry` copy of a record: callers cannot disturb the store through it. @internal */
export function recordEntry(rec: MemRecord): CacheEntry {
  return { value: rec.value, freshUntil: recordFreshUntil(rec), createdAt: rec.createdAt }
}

/** Whether a record has physically expired at `now` (the end is inclusive: still there at exactly it). */
function isExpired(rec: MemRecord, now: number): boolean {
  return now > rec.createdAt + rec.life
}

/** Options of {@link InMemCache}. */
export interface InMemCacheOptions {
  /** The most entries to keep; beyond it the least recently used ones are evicted. Default: no limit. */
  maxSize?: number
  /** The most (estimated) bytes to keep; beyond it entries are evicted. Default: no limit. */
  maxBytes?: number
}

const RECORD_OVERHEAD_BYTES = 96
const MIN_SWEEP_SIZE = 1024
const MEMORY_SAMPLE = 256

/**
 * A rough, cheap estimate of a value's heap size (bytes), for `maxBytes` and `memoryUsage()`.
 * Walks at most a few levels and a bounded number of properties: it is an estimate, not a census.
 *
 * @example
 * estimateBytes('hello')          // 26
 * estimateBytes({ id: 1, name: 'Ada' }) // 90
 */
export function estimateBytes(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2
    case 'number':
    case 'bigint':
      return 8
    case 'boolean':
    case 'undefined':
      return 4
    case 'object': {
      if (value === null) return 4
      if (ArrayBuffer.isView(value)) return 64 + value.byteLength
      if (depth >= 3) return 64
      let total = 32
      let budget = 64
      if (Array.isArray(value)) {
        for (const item of value) {
          if (budget-- === 0) return total + (value.length - 64) * 16
          total += 8 + estimateBytes(item, depth + 1)
        }
        return total
      }
      if (value instanceof Map || value instanceof Set) {
        for (const item of value as Iterable<unknown>) {
          if (budget-- === 0) break
          total += 16 + estimateBytes(item, depth + 1)
        }
        return total
      }
      for (const k in value) {
        if (budget-- === 0) break
        total += 8 + k.length * 2 + estimateBytes((value as Record<string, unknown>)[k], depth + 1)
      }
      return total
    }
    default:
      return 16
  }
}

function checkLimit(value: unknown, option: string): number {
  if (value === undefined) return Infinity
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(`InMemCache: option "${option}" must be a positive integer (got ${String(value)})`)
  }
  return value
}

function checkTtl(ttl: unknown, method: string): number {
  if (typeof ttl !== 'number' || Number.isNaN(ttl) || ttl < 0) {
    throw new TypeError(`InMemCache.${method}: ttl must be a number of seconds >= 0 (got ${String(ttl)})`)
  }
  return ttl
}

/**
 * The in-process store: synchronous, so a cache hit through `cache()` needs no `await`.
 *
 * It stores **references**, not copies: callers must not mutate objects they got from the cache.
 * Bounded by `maxSize` (entries) and/or `maxBytes` (estimated); eviction uses SIEVE, an LRU-family
 * policy where a read only sets a flag (no reordering on the hit path) and the eviction hand skips
 * — and clears — entries read since it last passed. Expired entries are dropped when read, swept a
 * few at a time as new keys arrive, or all at once by `cleanupExpired()`.
 *
 * @example
 * const store = new InMemCache({ maxSize: 10_000 })
 * store.set('user:1', { name: 'Ada' }, 60)
 * store.get('user:1') // { name: 'Ada' }
 */
export class InMemCache implements CacheStorage {
  readonly maxSize: number
  readonly maxBytes: number
  private readonly map = new Map<string, MemRecord>()
  /** How many records of `map` are placeholders (not counted by `size`). */
  private pending = 0
  private bytes = 0
  /** Estimated size per key, kept only under `maxBytes`. */
  private readonly sizes = new Map<string, number>()
  /** The SIEVE hand: a live iterator over keys in insertion order. */
  private hand: Iterator<string> | undefined
  /** When the map reaches this size, expired entries are swept (amortised O(1) per insertion). */
  private sweepAt = MIN_SWEEP_SIZE
  /** No entry expires before this (epoch seconds): until then a sweep has nothing to do. */
  private nextExpiry = Infinity

  constructor(options: InMemCacheOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('InMemCache: options must be an object')
    for (const k of Object.keys(options)) {
      if (k !== 'maxSize' && k !== 'maxBytes') throw new TypeError(`InMemCache: unknown option "${k}"`)
    }
    this.maxSize = checkLimit(options.maxSize, 'maxSize')
    this.maxBytes = checkLimit(options.maxBytes, 'maxBytes')
  }

  /** Number of entries held (expired ones not yet swept included). */
  get size(): number {
    return this.map.size - this.pending
  }

  /**
   * What the map holds for `key` if it has not physically expired at `now`, marked as read: a
   * record, or a placeholder (`ttl === PENDING`, see {@link hold}). The engine's hit path reads
   * freshness straight from it (a placeholder is never fresh: `createdAt + ttl` is in the past).
   * @internal
   */
  slot(key: string, now: number): MemRecord | undefined {
    const rec = this.map.get(key)
    if (rec === undefined) return undefined
    if (isExpired(rec, now)) {
      this.remove(key)
      return undefined
    }
    rec.visited = true
    return rec
  }

  /**
   * The live record for `key` if it has not physically expired at `now`, marked as read; never a placeholder.
   * @internal
   */
  record(key: string, now: number): MemRecord | undefined {
    const rec = this.slot(key, now)
    return rec === undefined || rec.ttl === PENDING ? undefined : rec
  }

  /**
   * Puts a placeholder for a load of `key` started at `now` by `owner` (kept in the record's
   * `value` until it lands) whose promise is `promise`, replacing whatever `key` held. It stays
   * until {@link land} fills it in place or {@link release} removes it; removing or overwriting
   * `key` meanwhile drops it (its load then does not write). Placeholders are never evicted or
   * expired, and are invisible to the public methods.
   * @internal
   */
  hold(key: string, owner: object, promise: Promise<unknown>, now: number): MemRecord {
    const rec = newRecord(owner, now, PENDING, NEVER, promise)
    // A placeholder already there is dropped; under maxBytes the size of the entry it replaces is untracked.
    if (this.pending !== 0 || this.maxBytes !== Infinity) this.remove(key)
    this.map.set(key, rec)
    this.pending++
    if (this.map.size >= this.sweepAt) this.sweepExpired()
    return rec
  }

  /**
   * Fills the placeholder `rec` of `key` with its loaded value, as {@link put} would store it.
   * Returns false, storing nothing, when the placeholder was dropped meanwhile (`key` deleted,
   * overwritten or cleared).
   * @internal
   */
  land(key: string, rec: MemRecord, value: unknown, createdAt: number, ttl: number, life: number): boolean {
    if (rec.ttl !== PENDING) return false
    if (value === undefined) {
      this.release(key, rec)
      return false
    }
    this.pending--
    rec.value = value
    rec.createdAt = createdAt
    rec.ttl = span(ttl)
    rec.life = span(life)
    // Not kept for hits: an entry that is never read again should not hold on to a promise.
    rec.promise = undefined
    this.expiresAt(rec)
    if (this.maxSize !== Infinity || this.maxBytes !== Infinity) {
      // A bounded store admits the value as a new insertion (the bounds do not count placeholders).
      this.map.delete(key)
      this.insert(key, rec)
    }
    return true
  }

  /**
   * Removes the placeholder `rec` of `key` (its load failed or stored nothing), unless it was dropped already.
   * @internal
   */
  release(key: string, rec: MemRecord): void {
    if (rec.ttl !== PENDING) return
    rec.ttl = DROPPED
    this.pending--
    this.map.delete(key)
  }

  /**
   * Store a value created at `createdAt` (epoch seconds), fresh for `ttl` seconds and kept for
   * `life` seconds (`Infinity` or `NEVER` = no expiry); returns the record.
   * @internal
   */
  put(key: string, value: unknown, createdAt: number, ttl: number, life: number): MemRecord {
    if (value === undefined) throw new TypeError(`InMemCache: cannot store undefined (key "${key}")`)
    const rec = newRecord(value, createdAt, span(ttl), span(life), undefined)
    this.expiresAt(rec)
    if (this.maxSize === Infinity && this.maxBytes === Infinity) {
      // Unbounded: one Map operation (more while loads are pending). Map.set on an existing key keeps its place in the order.
      if (this.pending !== 0) this.displace(key)
      this.map.set(key, rec)
      if (this.map.size >= this.sweepAt) this.sweepExpired()
      return rec
    }
    if (this.pending !== 0) this.displace(key)
    this.insert(key, rec)
    return rec
  }

  /** Stores `rec` at `key` in a bounded store: evicts to make room for a new key, tracks its size. */
  private insert(key: string, rec: MemRecord): void {
    const old = this.map.get(key)
    if (old === undefined) {
      if (this.map.size - this.pending >= this.maxSize) this.evict()
      else if (this.map.size >= this.sweepAt) this.sweepExpired()
    }
    // An overwrite keeps the key's place in the eviction order.
    this.map.set(key, rec)
    if (this.maxBytes !== Infinity) {
      // Sizes are only estimated when a byte bound needs them.
      const size = RECORD_OVERHEAD_BYTES + key.length * 2 + estimateBytes(rec.value)
      this.bytes += size - (this.sizes.get(key) ?? 0)
      this.sizes.set(key, size)
      this.enforceBytes(key)
    }
  }

  /** Notes when a new entry expires physically, for {@link cleanupExpired}. */
  private expiresAt(rec: MemRecord): void {
    const until = rec.createdAt + rec.life
    if (until < this.nextExpiry) this.nextExpiry = until
  }

  /** `key` is about to be overwritten or removed: a placeholder there is dropped (its load will not write) and removed. */
  private displace(key: string): void {
    const old = this.map.get(key)
    if (old !== undefined && old.ttl === PENDING) {
      old.ttl = DROPPED
      this.pending--
      this.map.delete(key)
    }
  }

  get(key: string): unknown | undefined {
    const rec = this.record(key, clockNow())
    return rec === undefined ? undefined : rec.value
  }

  set(key: string, value: unknown, ttl: number): void {
    checkTtl(ttl, 'set')
    const t = preciseNow()
    const lifetime = ttl > 0 ? ttl : NEVER
    this.put(key, value, t, lifetime, lifetime)
  }

  delete(key: string): void {
    this.remove(key)
  }

  exists(key: string): boolean {
    return this.record(key, clockNow()) !== undefined
  }

  /** A copy of the stored entry (timestamps and a reference to the value). */
  getEntry(key: string): CacheEntry | undefined {
    const rec = this.record(key, clockNow())
    return rec === undefined ? undefined : recordEntry(rec)
  }

  setEntry(key: string, entry: CacheEntry, ttl?: number): void {
    // freshUntil must come back bit for bit; the physical expiry may move by a millisecond.
    const fresh = spanTo(entry.createdAt, entry.freshUntil, 0)
    let life = fresh
    if (ttl !== undefined) life = checkTtl(ttl, 'setEntry') > 0 ? spanTo(entry.createdAt, preciseNow() + ttl, 0.001) : NEVER
    this.put(key, entry.value, entry.createdAt, fresh, life)
  }

  setIfNotExists(key: string, value: unknown, ttl: number): boolean {
    checkTtl(ttl, 'setIfNotExists')
    if (this.record(key, preciseNow()) !== undefined) return false
    this.set(key, value, ttl)
    return true
  }

  getMany(keys: string[]): Map<string, unknown> {
    const out = new Map<string, unknown>()
    const t = clockNow()
    for (const key of keys) {
      const rec = this.record(key, t)
      if (rec !== undefined) out.set(key, rec.value)
    }
    return out
  }

  setMany(items: Map<string, unknown> | Record<string, unknown>, ttl: number): void {
    checkTtl(ttl, 'setMany')
    const entries = items instanceof Map ? items.entries() : Object.entries(items)
    for (const [key, value] of entries) this.set(key, value, ttl)
  }

  clear(): void {
    if (this.pending !== 0) {
      this.map.forEach((rec) => {
        if (rec.ttl === PENDING) rec.ttl = DROPPED
      })
      this.pending = 0
    }
    this.map.clear()
    this.sizes.clear()
    this.bytes = 0
    this.hand = undefined
    this.sweepAt = MIN_SWEEP_SIZE
    this.nextExpiry = Infinity
  }

  /** Remove every physically expired entry now; returns how many were removed. */
  cleanupExpired(): number {
    const t = preciseNow()
    // Nothing has expired yet (the end of a lifetime is inclusive): no pass over the entries.
    if (t <= this.nextExpiry) return 0
    const before = this.map.size
    let next = Infinity
    // forEach, not for-of over entries: no [key, value] array per entry. Deleting while iterating is safe.
    this.map.forEach((rec, key) => {
      const until = rec.createdAt + rec.life
      if (t > until) this.remove(key)
      else if (until < next && rec.ttl !== PENDING) next = until
    })
    this.nextExpiry = next
    return before - this.map.size
  }

  /**
   * Estimated memory held: `{ bytes, entries, mb }`. Under `maxBytes` the tracked total; otherwise
   * the average of up to 256 entries times the entry count (sizes are not tracked on writes
   * without a byte bound, to keep insertions cheap).
   */
  memoryUsage(): { bytes: number; entries: number; mb: number } {
    const entries = this.size
    let bytes = this.bytes
    if (this.maxBytes === Infinity) {
      let sampled = 0
      let sum = 0
      for (const [key, rec] of this.map) {
        if (rec.ttl === PENDING) continue
        sum += RECORD_OVERHEAD_BYTES + key.length * 2 + estimateBytes(rec.value)
        if (++sampled === MEMORY_SAMPLE) break
      }
      bytes = sampled === 0 ? 0 : Math.round((sum / sampled) * entries)
    }
    return { bytes, entries, mb: Math.round((bytes / 1048576) * 100) / 100 }
  }

  private remove(key: string): void {
    if (this.pending !== 0) this.displace(key)
    this.map.delete(key)
    if (this.maxBytes !== Infinity) {
      this.bytes -= this.sizes.get(key) ?? 0
      this.sizes.delete(key)
    }
  }

  /** SIEVE: advance the hand, clearing `visited` flags, until an unvisited (or expired) entry is found; evict it. */
  private evict(): void {
    const t = clockNow()
    for (let steps = 0; steps <= 2 * this.map.size + 1; steps++) {
      let next = this.hand?.next()
      if (next === undefined || next.done) {
        this.hand = this.map.keys()
        next = this.hand.next()
        if (next.done) return
      }
      const key = next.value
      const rec = this.map.get(key)!
      // A placeholder is a load under way, not an entry: it is not evicted.
      if (rec.ttl === PENDING) continue
      if (rec.visited && !isExpired(rec, t)) {
        rec.visited = false
        continue
      }
      this.remove(key)
      return
    }
  }

  /**
   * Entries that are never read again must not pile up: each time the map has doubled since the
   * last sweep, drop the expired ones. One pass over n entries per n insertions: O(1) amortised.
   */
  private sweepExpired(): void {
    this.cleanupExpired()
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, this.map.size * 2)
  }

  private enforceBytes(key: string): void {
    while (this.bytes > this.maxBytes && this.map.size - this.pending > 1) {
      const before = this.map.size
      this.evict()
      if (this.map.size === before) break
    }
    // A single entry larger than the whole budget is not kept.
    if (this.bytes > this.maxBytes && this.map.size - this.pending === 1 && (this.sizes.get(key) ?? 0) > this.maxBytes) this.remove(key)
  }
}
