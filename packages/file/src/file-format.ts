import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import { WIRE_HEADER_BYTES, WireFormatError, decodeEntry, encodeEntry, type CacheEntry, type Serializer } from '@acache/core'

/**
 * Size of the file header that precedes the wire-format bytes:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0  | 4 | magic `61 63 66 31` (`"acf1"`: acache file, format 1) |
 * | 4  | 4 | CRC-32 (big-endian) of every byte from offset 8 to the end |
 * | 8  | 1 | flags: `0` payload as serialized, `1` payload gzip-compressed |
 * | 9  | 7 | zero |
 * | 16 | 8 | physical expiry, epoch seconds, f64 big-endian (`Infinity` = never) |
 * | 24 | … | the DESIGN §5 wire format: freshUntil f64, createdAt f64, payload |
 *
 * @example
 * ```ts
 * const wire = fileBytes.subarray(FILE_HEADER_BYTES) // the wire-format entry
 * ```
 */
export const FILE_HEADER_BYTES = 24

/** Where the bytes that change when an entry's times are refreshed start and end (CRC … createdAt). */
export const TIMES_START = 4
export const TIMES_END = FILE_HEADER_BYTES + WIRE_HEADER_BYTES

const MAGIC = Buffer.from('acf1', 'latin1')
const FLAG_GZIP = 1

const gzip = promisify(zlib.gzip)
const gunzip = promisify(zlib.gunzip)

/** The decoded content of an entry file. */
export interface DecodedFile {
  entry: CacheEntry
  /** Physical expiry in epoch seconds; `Infinity` = never. */
  expiresAt: number
}

/**
 * Encode an entry file: the 24-byte header, then the wire format (its payload gzip-compressed
 * when `compress` is set). Throws what `encodeEntry` throws (the serializer's own error for a value
 * it refuses).
 *
 * @example
 * ```ts
 * const bytes = await encodeFile({ value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }, 1700000060, serializers.json, false)
 * bytes.subarray(24).toString('hex') // '41d954fc4f00000041d954fc400000007b2261223a317d'
 * ```
 */
export async function encodeFile(entry: CacheEntry, expiresAt: number, serializer: Serializer, compress: boolean): Promise<Buffer> {
  const wire = encodeEntry(entry, serializer)
  let payload: Uint8Array = wire.subarray(WIRE_HEADER_BYTES)
  if (compress) payload = await gzip(payload)
  const out = Buffer.alloc(TIMES_END + payload.byteLength)
  MAGIC.copy(out, 0)
  out[8] = compress ? FLAG_GZIP : 0
  out.writeDoubleBE(expiresAt, 16)
  out.set(wire.subarray(0, WIRE_HEADER_BYTES), FILE_HEADER_BYTES)
  out.set(payload, TIMES_END)
  out.writeUInt32BE(crc32(out.subarray(8)), 4)
  return out
}

/**
 * The physical expiry from a file's first {@link FILE_HEADER_BYTES} bytes (no checksum check:
 * used to sweep expired files without reading them whole). Throws `WireFormatError` when the
 * header is not an entry header.
 *
 * @example
 * ```ts
 * readExpiry(header) // 1700000060
 * ```
 */
export function readExpiry(header: Uint8Array): number {
  const bytes = Buffer.from(header.buffer, header.byteOffset, header.byteLength)
  if (bytes.byteLength < FILE_HEADER_BYTES) {
    throw new WireFormatError(`entry file is ${bytes.byteLength} bytes, shorter than its ${FILE_HEADER_BYTES}-byte header`)
  }
  if (!bytes.subarray(0, 4).equals(MAGIC)) throw new WireFormatError('not an acache entry file (bad magic)')
  if (bytes[8] > FLAG_GZIP || bytes.readUInt32BE(8) !== bytes[8] << 24 || bytes.readUInt32BE(12) !== 0) {
    throw new WireFormatError('entry file header has unknown flags')
  }
  const expiresAt = bytes.readDoubleBE(16)
  if (Number.isNaN(expiresAt)) throw new WireFormatError('entry file expiry is NaN')
  return expiresAt
}

/**
 * Decode a whole entry file. Anything that is not an intact entry (truncated, wrong magic,
 * checksum mismatch, a payload that does not decompress or deserialize) throws `WireFormatError`.
 *
 * @example
 * ```ts
 * const { entry, expiresAt } = await decodeFile(await readFile(path), serializers.json)
 * ```
 */
export async function decodeFile(bytes: Buffer, serializer: Serializer): Promise<DecodedFile> {
  if (bytes.byteLength < TIMES_END) {
    throw new WireFormatError(`entry file is ${bytes.byteLength} bytes, shorter than the ${TIMES_END}-byte header (truncated)`)
  }
  const expiresAt = readExpiry(bytes)
  if (crc32(bytes.subarray(8)) !== bytes.readUInt32BE(4)) {
    throw new WireFormatError('entry file checksum mismatch (corrupt or truncated)')
  }
  let wire: Uint8Array = bytes.subarray(FILE_HEADER_BYTES)
  if (bytes[8] === FLAG_GZIP) {
    let payload: Buffer
    try {
      payload = await gunzip(bytes.subarray(TIMES_END))
    } catch (error) {
      throw new WireFormatError(`entry payload does not decompress: ${(error as Error).message}`, { cause: error })
    }
    wire = Buffer.concat([bytes.subarray(FILE_HEADER_BYTES, TIMES_END), payload])
  }
  return { entry: decodeEntry(wire, serializer), expiresAt }
}

/**
 * CRC-32 (IEEE). `zlib.crc32` is native from Node 20.15; older Node 20 releases use the table
 * version below.
 *
 * @example
 * ```ts
 * crc32(Buffer.from('123456789')) // 0xcbf43926
 * ```
 */
export const crc32: (bytes: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (bytes) => (zlib as unknown as { crc32(data: Uint8Array): number }).crc32(bytes)
    : tableCrc32

let table: Uint32Array | undefined

function tableCrc32(bytes: Uint8Array): number {
  if (table === undefined) {
    table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      table[n] = c >>> 0
    }
  }
  let crc = 0xffffffff
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
