/**
 * The timing rules, in one pure place: given an entry's timestamps, the options and the current
 * time, say whether the entry is fresh, stale or dead, and what to do. No I/O, no clock reads.
 *
 * - fresh while `now < freshUntil` (`freshUntil = createdAt + ttl`);
 * - stale while `now <= freshUntil + stale` (inclusive), only when `stale > 0`;
 * - dead after that.
 */

export const FRESH = 0
export const STALE = 1
export const DEAD = 2
export type EntryState = typeof FRESH | typeof STALE | typeof DEAD

/** After a failed background refresh, the next one for the same key waits at least this long (seconds). */
export const REFRESH_RETRY_SECONDS = 1

/**
 * The state of an entry whose fresh period ends at `freshUntil`, with a stale window of `stale` seconds.
 *
 * @example
 * entryState(100, 99.9, 30) // FRESH
 * entryState(100, 130, 30)  // STALE (the end is inclusive)
 * entryState(100, 130.1, 30) // DEAD
 */
export function entryState(freshUntil: number, now: number, stale: number): EntryState {
  if (now < freshUntil) return FRESH
  return stale > 0 && now <= freshUntil + stale ? STALE : DEAD
}

/** How long a store must keep an entry physically: its fresh period plus the stale window (0 = for ever). */
export function physicalTtl(ttl: number, stale: number): number {
  return ttl + stale
}

/** Whether a stale read may start a background refresh, given when the last refresh of the key failed. */
export function mayRetryRefresh(lastFailureAt: number | undefined, now: number): boolean {
  return lastFailureAt === undefined || now - lastFailureAt >= REFRESH_RETRY_SECONDS
}

/** The `freshUntil` of an entry created at `createdAt` with `ttl` seconds of freshness (0 = never expires). */
export function freshUntilOf(createdAt: number, ttl: number): number {
  return ttl > 0 ? createdAt + ttl : Infinity
}

/** Why a load runs: a caller's miss, an explicit `refresh()`, or a background refresh (SWR or refresh-ahead). */
export const LOAD = 0
export const REFRESH = 1
export const BACKGROUND = 2
export type LoadKind = typeof LOAD | typeof REFRESH | typeof BACKGROUND

/**
 * `staleIfError`: whether a load of kind `kind` that failed at `now` answers with the last value
 * (`last`, the dead entry it was replacing): only a caller's miss does, and only while
 * `now <= freshUntil + stale + staleIfError` (inclusive).
 *
 * @example
 * staleIfErrorServes(LOAD, { freshUntil: 100 }, 130, 0, 30)   // true (the end is inclusive)
 * staleIfErrorServes(LOAD, { freshUntil: 100 }, 130.1, 0, 30) // false
 */
export function staleIfErrorServes(
  kind: LoadKind,
  last: { freshUntil: number } | undefined,
  now: number,
  stale: number,
  staleIfError: number,
): boolean {
  return kind === LOAD && last !== undefined && staleIfError > 0 && now <= last.freshUntil + stale + staleIfError
}
