import type { CacheStorage, LockingStorage } from './types.js'

/** The methods of the storage protocol, in the order they are documented. */
export const STORAGE_METHODS = [
  'get',
  'set',
  'delete',
  'exists',
  'getEntry',
  'setEntry',
  'setIfNotExists',
  'getMany',
  'setMany',
  'clear',
] as const

function missingMethods(x: unknown): string[] {
  if (x === null || (typeof x !== 'object' && typeof x !== 'function')) return [...STORAGE_METHODS]
  return STORAGE_METHODS.filter((m) => typeof (x as Record<string, unknown>)[m] !== 'function')
}

/**
 * Whether `x` implements the storage protocol: every `CacheStorage` method is a function.
 * A shape check only (it calls nothing).
 *
 * @example
 * validateCacheStorage(new InMemCache()) // true
 * validateCacheStorage({ get() {} })     // false
 */
export function validateCacheStorage(x: unknown): x is CacheStorage {
  return missingMethods(x).length === 0
}

/** Whether `fn` should be constructed with `new` (a class) rather than called (a factory). */
function isClassLike(fn: Function): boolean {
  const proto = (fn as { prototype?: unknown }).prototype
  if (proto !== null && typeof proto === 'object' && typeof (proto as Record<string, unknown>).get === 'function') return true
  try {
    return /^class[\s{]/.test(Function.prototype.toString.call(fn))
  } catch {
    return false
  }
}

function describeValue(x: unknown): string {
  if (x === null) return 'null'
  if (x === undefined) return 'undefined'
  if (typeof x === 'function') return `a function${x.name ? ` (${x.name})` : ''}`
  if (typeof x === 'object') {
    const name = (x as object).constructor?.name
    return name && name !== 'Object' ? `an instance of ${name}` : 'an object'
  }
  return `${typeof x} ${String(x)}`
}

/**
 * Turns a `store` option into a store. Accepts:
 * - an instance (anything {@link validateCacheStorage} accepts) — returned as is;
 * - a class — constructed once with no arguments (`new X()`). A function counts as a class when its
 *   `prototype` has a `get` method or its source starts with `class`;
 * - a factory — any other function, called once with no arguments (it must return the store
 *   synchronously; `await` an async factory yourself).
 *
 * Throws a `TypeError` naming `optionName` (and the missing methods) when the result is not a store.
 *
 * @example
 * resolveStore(InMemCache, 'l1Cache')                          // new InMemCache()
 * resolveStore(() => new RedisCache(client, { prefix: 'a:' }), 'store')
 * resolveStore(42, 'store') // TypeError: option "store" must be a CacheStorage …
 */
export function resolveStore(x: unknown, optionName: string): CacheStorage {
  if (validateCacheStorage(x)) return x
  let made: unknown = x
  let how = ''
  if (typeof x === 'function') {
    const fn = x as Function
    const asClass = isClassLike(fn)
    how = asClass ? ` (constructed ${describeValue(x)} with new)` : ` (called ${describeValue(x)} as a factory)`
    try {
      made = asClass ? new (fn as new () => unknown)() : (fn as () => unknown)()
    } catch (error) {
      throw new TypeError(
        `option "${optionName}": creating the store failed${how}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      )
    }
    if (validateCacheStorage(made)) return made
    if (made !== null && typeof made === 'object' && typeof (made as PromiseLike<unknown>).then === 'function') {
      throw new TypeError(
        `option "${optionName}": the factory returned a Promise; await it and pass the store itself`,
      )
    }
  }
  const missing = missingMethods(made)
  throw new TypeError(
    `option "${optionName}" must be a CacheStorage (an instance, a class or a factory of one); got ${describeValue(made)}${how}` +
      (missing.length < STORAGE_METHODS.length ? ` missing ${missing.join(', ')}` : ''),
  )
}

/**
 * Whether `store` offers a distributed lock (`tryLock`), as `cache(ttl, { lock: true })` needs.
 *
 * @example
 * supportsLocking(new RedisCache(client)) // true
 * supportsLocking(new InMemCache())       // false
 */
export function supportsLocking(store: unknown): store is CacheStorage & LockingStorage {
  return store !== null && typeof store === 'object' && typeof (store as Partial<LockingStorage>).tryLock === 'function'
}
