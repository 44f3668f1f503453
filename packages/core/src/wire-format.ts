import { WireFormatError } from './errors.js'
import type { CacheEntry, Serializer } from './types.js'

/**
 * Size of the wire-format header: `freshUntil` and `createdAt`, each an IEEE-754 f64, big-endian.
 *
 * @example
 * ```ts
 * const payload = bytes.subarray(WIRE_HEADER_BYTES) // the serialized value
 * ```
 */
export const WIRE_HEADER_BYTES = 16

/**
 * Encode an entry as `[freshUntil f64 BE][createdAt f64 BE][serializer.dumps(value)]`, times in
 * epoch seconds. Byte-compatible with the Python `advanced-caching` library, so services in both
 * languages can share a store (same prefix, same serializer).
 *
 * `freshUntil` may be `Infinity` (no expiry); `createdAt` must be finite. A timestamp that is not
 * a number, or is NaN, throws {@link WireFormatError}. A value the serializer refuses throws
 * whatever the serializer throws (a `SerializationError` for the built-in ones), unwrapped, so the
 * caller sees the serializer's own message.
 *
 * @example
 * ```ts
 * const bytes = encodeEntry({ value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }, serializers.json)
 * Buffer.from(bytes).toString('hex') // '41d954fc4f00000041d954fc400000007b2261223a317d'
 * ```
 */
export function encodeEntry(entry: CacheEntry, serializer: Serializer): Uint8Array {
  const { freshUntil, createdAt } = entry
  checkTimestamps(freshUntil, createdAt, 'encode')
  const payload = serializer.dumps(entry.value)
  if (!(payload instanceof Uint8Array)) {
    throw new WireFormatError(`serializer.dumps() returned ${describe(payload)}, expected a Uint8Array`)
  }
  const bytes = new Uint8Array(WIRE_HEADER_BYTES + payload.byteLength)
  const view = new DataView(bytes.buffer)
  view.setFloat64(0, freshUntil, false)
  view.setFloat64(8, createdAt, false)
  bytes.set(payload, WIRE_HEADER_BYTES)
  return bytes
}

/**
 * Decode bytes written by {@link encodeEntry} (or by the Python library). Accepts a `Uint8Array`
 * or a `Buffer`, including views into a larger buffer (the payload is handed to the serializer as
 * a plain `Uint8Array` view, not a copy, also when the input is a `Buffer`).
 *
 * Anything that is not a valid entry (not bytes, shorter than the 16-byte header, a NaN or
 * otherwise impossible timestamp, a payload the serializer cannot decode) throws
 * {@link WireFormatError}, with the underlying error as `cause` — never another error type, so a
 * store can turn it into "miss + reported error" with one `instanceof` check.
 *
 * @example
 * ```ts
 * const entry = decodeEntry(Buffer.from('41d954fc4f00000041d954fc400000007b2261223a317d', 'hex'), serializers.json)
 * // { value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }
 * ```
 */
export function decodeEntry(bytes: Uint8Array, serializer: Serializer): CacheEntry {
  if (!(bytes instanceof Uint8Array)) {
    throw new WireFormatError(`cannot decode ${describe(bytes)}: expected a Uint8Array or Buffer`)
  }
  if (bytes.byteLength < WIRE_HEADER_BYTES) {
    throw new WireFormatError(
      `entry is ${bytes.byteLength} bytes, shorter than the ${WIRE_HEADER_BYTES}-byte header`,
    )
  }
  const freshUntil = readFloat64BE(bytes, 0)
  const createdAt = readFloat64BE(bytes, 8)
  checkTimestamps(freshUntil, createdAt, 'decode')
  let value: unknown
  // A plain view, not `subarray`: on a Buffer that goes through the species constructor (a Buffer
  // again), which costs several times as much. A Buffer is often a slice of a shared pool: the view
  // starts at its byteOffset.
  const payload = new Uint8Array(bytes.buffer, bytes.byteOffset + WIRE_HEADER_BYTES, bytes.byteLength - WIRE_HEADER_BYTES)
  try {
    value = serializer.loads(payload)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new WireFormatError(`entry payload does not decode: ${reason}`, { cause: error })
  }
  return { value, freshUntil, createdAt }
}

// One scratch f64 and its bytes: reading a timestamp allocates nothing (a DataView per read would).
const scratch = new Float64Array(1)
const scratchBytes = new Uint8Array(scratch.buffer)
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** The big-endian f64 at `offset` of `bytes` (which holds at least `offset + 8` bytes). */
function readFloat64BE(bytes: Uint8Array, offset: number): number {
  if (littleEndian) {
    for (let i = 0; i < 8; i++) scratchBytes[i] = bytes[offset + 7 - i]
  } else {
    for (let i = 0; i < 8; i++) scratchBytes[i] = bytes[offset + i]
  }
  return scratch[0]
}

/** NaN or a non-finite createdAt can only come from corruption (or a bug), never from a real write. */
function checkTimestamps(freshUntil: number, createdAt: number, action: 'encode' | 'decode'): void {
  // `!(x > -Infinity)` is true for NaN, -Infinity and non-numbers alike.
  if (typeof freshUntil !== 'number' || !(freshUntil > -Infinity)) {
    throw new WireFormatError(`cannot ${action} entry: freshUntil is ${String(freshUntil)}, expected a number (Infinity allowed)`)
  }
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) {
    throw new WireFormatError(`cannot ${action} entry: createdAt is ${String(createdAt)}, expected a finite number`)
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null'
  if (typeof x === 'object') return `a ${(x as object).constructor?.name ?? 'null-prototype object'}`
  return `a ${typeof x}`
}
