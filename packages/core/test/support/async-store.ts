import { InMemCache } from '../../src/in-mem-cache.js'
import { STORAGE_METHODS } from '../../src/store-resolution.js'
import type { CacheStorage } from '../../src/types.js'

/**
 * A store that answers through promises, as a remote store does, with real storage underneath.
 * Entries come back as copies (remote stores return fresh objects). `defer: 'immediate'` settles
 * on a later macrotask (setImmediate) instead of a microtask, to interleave with other I/O.
 */
export function asyncStore<S extends CacheStorage = InMemCache>(
  inner: S = new InMemCache() as unknown as S,
  { defer = 'microtask' }: { defer?: 'microtask' | 'immediate' } = {},
): CacheStorage & { inner: S } {
  const out: Record<string, unknown> = { inner }
  for (const m of STORAGE_METHODS) {
    out[m] = (...args: unknown[]) => {
      const run = () => {
        const result = (inner[m] as (...a: unknown[]) => unknown)(...args)
        if (m === 'getEntry' && result !== undefined && !(result instanceof Promise)) return { ...(result as object) }
        return result
      }
      if (defer === 'microtask') return Promise.resolve().then(run)
      return new Promise((resolve, reject) =>
        setImmediate(() => {
          try {
            resolve(run())
          } catch (e) {
            reject(e)
          }
        }),
      )
    }
  }
  return out as unknown as CacheStorage & { inner: S }
}
