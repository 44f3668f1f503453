import { InMemCache } from '../../src/in-mem-cache.js'
import type { CacheLock, CacheStorage, LockingStorage } from '../../src/types.js'

/**
 * An in-memory lock table with expiries on the (fake) clock, standing in for a lock backend that
 * several processes share. `failWith` makes every `tryLock` reject (backend unavailable).
 * No heartbeat: a holder that never releases (a crashed process) blocks others until its expiry.
 */
export class LockTable {
  readonly holders = new Map<string, { token: number; expiresAt: number }>()
  failWith: Error | undefined
  attempts = 0
  acquired = 0
  released = 0
  private tokens = 0

  tryLock(key: string, timeout: number): Promise<CacheLock | null> {
    this.attempts++
    if (this.failWith !== undefined) return Promise.reject(this.failWith)
    const now = Date.now() / 1000
    const held = this.holders.get(key)
    if (held !== undefined && held.expiresAt > now) return Promise.resolve(null)
    const token = ++this.tokens
    this.holders.set(key, { token, expiresAt: now + timeout })
    this.acquired++
    return Promise.resolve({
      release: async () => {
        if (this.holders.get(key)?.token !== token) return
        this.holders.delete(key)
        this.released++
      },
    })
  }
}

/** An InMemCache with a lock table: a synchronous store that can lock (the engine's in-memory path). */
export class LockingInMemCache extends InMemCache implements LockingStorage {
  constructor(readonly table = new LockTable()) {
    super()
  }
  tryLock(key: string, timeout: number): Promise<CacheLock | null> {
    return this.table.tryLock(key, timeout)
  }
}

/** Adds a lock table to any store (e.g. an asyncStore: the engine's remote-store path). */
export function withLocks<S extends CacheStorage>(store: S, table = new LockTable()): S & LockingStorage & { table: LockTable } {
  return Object.assign(store, { table, tryLock: (key: string, timeout: number) => table.tryLock(key, timeout) })
}
