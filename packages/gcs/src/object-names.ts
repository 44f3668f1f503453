import { createHash } from 'node:crypto'

/** GCS object names are at most 1024 bytes of UTF-8. */
export const MAX_OBJECT_NAME_BYTES = 1024

/** Marks a name derived from a hash of the key (see {@link objectNameFor}). */
export const HASHED_NAME_MARKER = '~sha256~'

// A lone surrogate has no UTF-8 form: encoding it would turn two different keys into one name.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * The GCS object name of `key` under `prefix`: `prefix + key` whenever GCS can store that name
 * unchanged. Otherwise `prefix + '~sha256~' + sha256hex(key)`, so that every key still maps to
 * exactly one object: names longer than 1024 UTF-8 bytes, names holding a carriage return or a
 * line feed, a lone UTF-16 surrogate, the whole names `.` / `..`, names under
 * `.well-known/acme-challenge/`, and keys that themselves start with the marker (so that no key
 * can alias another key's hashed name). The hash covers the key's UTF-16 code units, so it is
 * lossless for every JavaScript string.
 *
 * @example
 * ```ts
 * objectNameFor('cache/', 'user:1')          // 'cache/user:1'
 * objectNameFor('cache/', 'x'.repeat(2000))  // 'cache/~sha256~5d1e…' (64 hex digits)
 * ```
 */
export function objectNameFor(prefix: string, key: string): string {
  const name = prefix + key
  if (isStorableName(name) && !key.startsWith(HASHED_NAME_MARKER)) return name
  return prefix + HASHED_NAME_MARKER + createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex')
}

function isStorableName(name: string): boolean {
  if (name === '.' || name === '..' || name.startsWith('.well-known/acme-challenge/')) return false
  // A UTF-8 byte is at most 3 per UTF-16 code unit: short names skip the byte count.
  if (name.length * 3 > MAX_OBJECT_NAME_BYTES && Buffer.byteLength(name, 'utf8') > MAX_OBJECT_NAME_BYTES) return false
  return !name.includes('\r') && !name.includes('\n') && !LONE_SURROGATE.test(name)
}
