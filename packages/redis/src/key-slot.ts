/**
 * Redis Cluster hash slots: `CRC16(key) mod 16384`, where CRC16 is the XMODEM variant (polynomial
 * 0x1021, initial value 0) and only the hash tag is hashed when the key has one: the bytes between
 * the first `{` and the first `}` after it, provided they are not empty.
 */

export const SLOT_COUNT = 16384

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256)
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[byte] = crc
  }
  return table
})()

function crc16Bytes(bytes: Uint8Array, from: number, to: number): number {
  let crc = 0
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ bytes[i]) & 0xff]
  return crc
}

// The same over an ASCII string's code units (which are its UTF-8 bytes), without encoding it.
function crc16Ascii(key: string, from: number, to: number): number {
  let crc = 0
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ key.charCodeAt(i)) & 0xff]
  return crc
}

const OPEN = 0x7b // {
const CLOSE = 0x7d // }

/** The [from, to) range to hash: the hash tag when there is a non-empty one, else the whole key. */
function hashedRange(at: (i: number) => number, n: number): [number, number] {
  let open = 0
  while (open < n && at(open) !== OPEN) open++
  if (open < n) {
    let close = open + 1
    while (close < n && at(close) !== CLOSE) close++
    if (close < n && close > open + 1) return [open + 1, close]
  }
  return [0, n]
}

const isAscii = (key: string): boolean => {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0x7f) return false
  return true
}

/**
 * The Redis Cluster hash slot (0–16383) of a full key (prefix included), honouring hash tags
 * exactly as Redis does: `app:{tenant1}:user:1` and `app:{tenant1}:order:9` share a slot; an empty
 * tag (`{}`) hashes the whole key; only the first `{` counts.
 *
 * @example
 * ```ts
 * keySlot('foo')                    // 12182
 * keySlot('app:{t1}:user:1') === keySlot('{t1}')   // true
 * ```
 */
export function keySlot(key: string | Uint8Array): number {
  if (typeof key === 'string') {
    if (!isAscii(key)) return keySlot(Buffer.from(key, 'utf8')) // slots are computed on UTF-8 bytes
    const [from, to] = hashedRange((i) => key.charCodeAt(i), key.length)
    return crc16Ascii(key, from, to) & (SLOT_COUNT - 1)
  }
  const [from, to] = hashedRange((i) => key[i], key.length)
  return crc16Bytes(key, from, to) & (SLOT_COUNT - 1)
}
