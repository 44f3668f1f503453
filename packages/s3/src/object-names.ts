import { createHash } from 'node:crypto'

/** S3's limit on an object key, in UTF-8 bytes. */
export const MAX_OBJECT_KEY_BYTES = 1024

/**
 * The marker that starts the name (after the prefix) of an object whose cache key is stored
 * hashed. Cache keys that themselves start with it are hashed too, so a stored name never has two
 * meanings.
 */
export const HASHED_KEY_MARKER = '#sha256/'

/**
 * Maps a cache key to its object name: `prefix + key` as is whenever that is a portable S3 object
 * key, else `prefix + '#sha256/' + sha256(key)` (hex). A key is stored hashed when `prefix + key`
 *
 * - is longer than 1024 UTF-8 bytes (S3's limit);
 * - is not well-formed UTF-16 (a lone surrogate has no UTF-8 form: two different keys would
 *   collapse into the same U+FFFD name);
 * - contains a control character (U+0000–U+001F, U+007F): ListObjectsV2 cannot return it in XML;
 * - has an empty path segment (`a//b`, a trailing `/`) or a segment made of dots only (`.`,
 *   `..`): S3 itself stores such names verbatim, but S3-compatible servers and tools normalise
 *   or reject them, which would make `a/../b` alias `b`;
 * - or starts (after the prefix) with the marker `#sha256/`.
 *
 * The hash covers the key's UTF-16 code units, so distinct keys never share a name (short of a
 * SHA-256 collision).
 *
 * @example
 * ```ts
 * objectName('app/', 'user:1')     // 'app/user:1'
 * objectName('app/', 'a/../b')     // 'app/#sha256/…' (64 hex digits)
 * ```
 */
export function objectName(prefix: string, key: string): string {
  const name = prefix + key
  return isPortable(name, key) ? name : prefix + HASHED_KEY_MARKER + hashKey(key)
}

function hashKey(key: string): string {
  return createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex')
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/
// A segment (between slashes, or at either end) that is empty or only dots.
const UNSAFE_SEGMENT = /(?:^|\/)\.*(?:\/|$)/

function isPortable(name: string, key: string): boolean {
  return (
    !key.startsWith(HASHED_KEY_MARKER) &&
    !LONE_SURROGATE.test(name) &&
    !CONTROL_CHARACTER.test(name) &&
    !UNSAFE_SEGMENT.test(name) &&
    Buffer.byteLength(name, 'utf8') <= MAX_OBJECT_KEY_BYTES
  )
}

/**
 * Why `prefix` cannot be used, or `undefined` when it can. The prefix must leave room for a
 * hashed name and must not itself contain a non-portable part (an empty or dots-only segment
 * before its last `/`, a control character, a lone surrogate).
 */
export function prefixProblem(prefix: string): string | undefined {
  const probe = prefix + 'k'
  if (LONE_SURROGATE.test(prefix)) return 'must be well-formed Unicode (it contains a lone surrogate)'
  if (CONTROL_CHARACTER.test(prefix)) return 'must not contain control characters'
  if (UNSAFE_SEGMENT.test(probe)) return "must not contain an empty path segment ('//', a leading '/') or a '.' / '..' segment"
  const room = MAX_OBJECT_KEY_BYTES - HASHED_KEY_MARKER.length - 64
  if (Buffer.byteLength(prefix, 'utf8') > room) return `must be at most ${room} UTF-8 bytes`
  return undefined
}
