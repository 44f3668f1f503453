import { createHash, randomBytes } from 'node:crypto'

/** Every entry file ends with this. */
export const ENTRY_SUFFIX = '.acache'

/**
 * Longest escaped key kept readable; longer ones are hashed. Keeps every name (with the temp
 * suffix) far below the 255-byte limit of common filesystems.
 */
export const MAX_ESCAPED_LENGTH = 160

// Bytes kept as they are: [a-z0-9._-]. No upper case: every name is lower case, so two keys that
// differ only by case can never meet on a case-insensitive filesystem (macOS, Windows).
const ESCAPES: readonly string[] = Array.from({ length: 256 }, (_, byte) => {
  const ch = String.fromCharCode(byte)
  return /^[a-z0-9._-]$/.test(ch) ? ch : `%${byte.toString(16).padStart(2, '0')}`
})

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const utf8 = new TextEncoder()

/** `k-<escaped key>.acache` or `h-<sha-256>.acache`, then `.<random>.tmp` / `.lock` for the transient files. */
const ENTRY_NAME = /^(?:k-(?:[a-z0-9._-]|%[0-9a-f]{2})*|h-[0-9a-f]{64})\.acache$/
const TEMP_NAME = /^(?:k-(?:[a-z0-9._-]|%[0-9a-f]{2})*|h-[0-9a-f]{64})\.acache\.(?:[0-9a-f]{16}\.tmp|lock)$/

/**
 * The file name of `key`, injective and always a single path component inside the store's
 * directory.
 *
 * - A well-formed key whose escaped form fits {@link MAX_ESCAPED_LENGTH} becomes
 *   `k-<escaped>.acache`: `[a-z0-9._-]` stay as they are; every other UTF-8 byte, upper-case
 *   letters and `%` included, becomes `%xx` (lower-case hex). `user:42` → `k-user%3a42.acache`.
 * - Any other key (too long, or with lone surrogates, which UTF-8 cannot carry) becomes
 *   `h-<sha-256 of its UTF-16 code units>.acache`.
 *
 * The `k-` / `h-` prefixes keep the two forms apart, no name contains `/`, `\` or NUL and none is
 * `.` or `..`, and every name is lower-case ASCII, so case-insensitive or Unicode-normalising
 * filesystems cannot merge two keys.
 *
 * @example
 * ```ts
 * entryFileName('a/b')   // 'k-a%2fb.acache'
 * entryFileName('a_b')   // 'k-a_b.acache'
 * entryFileName('User')  // 'k-%55ser.acache'
 * entryFileName('x'.repeat(1000)) // 'h-<64 hex digits>.acache'
 * ```
 */
export function entryFileName(key: string): string {
  if (key.length <= MAX_ESCAPED_LENGTH && !LONE_SURROGATE.test(key)) {
    let escaped = ''
    for (const byte of utf8.encode(key)) {
      escaped += ESCAPES[byte]
      if (escaped.length > MAX_ESCAPED_LENGTH) break
    }
    if (escaped.length <= MAX_ESCAPED_LENGTH) return `k-${escaped}${ENTRY_SUFFIX}`
  }
  // UTF-16 code units: unlike UTF-8 they represent every JS string, lone surrogates included.
  const digest = createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex')
  return `h-${digest}${ENTRY_SUFFIX}`
}

/**
 * A unique temporary name next to the entry `name` (written, then renamed over `name`).
 *
 * @example
 * ```ts
 * tempFileName('k-a.acache') // 'k-a.acache.3f9c0e1d2b4a6c8e.tmp'
 * ```
 */
export function tempFileName(name: string): string {
  return `${name}.${randomBytes(8).toString('hex')}.tmp`
}

/**
 * The lock directory taken while an expired or corrupt entry is removed.
 *
 * @example
 * ```ts
 * lockFileName('k-a.acache') // 'k-a.acache.lock'
 * ```
 */
export function lockFileName(name: string): string {
  return `${name}.lock`
}

/**
 * Whether a directory entry is one of this store's entry files (other files are never touched).
 *
 * @example
 * ```ts
 * isEntryFileName('k-a.acache') // true
 * isEntryFileName('notes.txt')  // false
 * ```
 */
export function isEntryFileName(name: string): boolean {
  return ENTRY_NAME.test(name)
}

/**
 * Whether a directory entry is a temp file or lock of this store (swept when left over).
 *
 * @example
 * ```ts
 * isTransientFileName('k-a.acache.lock') // true
 * ```
 */
export function isTransientFileName(name: string): boolean {
  return TEMP_NAME.test(name)
}
