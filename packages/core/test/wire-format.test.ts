import { SerializationError, WireFormatError } from '../src/errors.js'
import { serializers } from '../src/serializers.js'
import type { CacheEntry, Serializer } from '../src/types.js'
import { decodeEntry, encodeEntry, WIRE_HEADER_BYTES } from '../src/wire-format.js'

const VECTOR_HEX = '41d954fc4f00000041d954fc400000007b2261223a317d'
const VECTOR_ENTRY: CacheEntry = { value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))

/** mulberry32: small, seeded, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('WIRE_HEADER_BYTES', () => {
  test('is 16 (two f64)', () => {
    expect(WIRE_HEADER_BYTES).toBe(16)
  })
})

describe('encodeEntry', () => {
  test('matches the Python test vector byte for byte', () => {
    const bytes = encodeEntry(VECTOR_ENTRY, serializers.json)
    expect(bytes).toBeInstanceOf(Uint8Array)
    expect(bytes.byteLength).toBe(23)
    expect(hex(bytes)).toBe(VECTOR_HEX)
  })

  test('writes freshUntil = Infinity as 7ff0000000000000', () => {
    const bytes = encodeEntry({ value: 'x', freshUntil: Infinity, createdAt: 1700000000 }, serializers.json)
    expect(hex(bytes)).toBe('7ff000000000000041d954fc40000000227822')
  })

  test('keeps fractional seconds exactly', () => {
    const entry = { value: null, freshUntil: 1700000000.125, createdAt: 1699999999.5 }
    const decoded = decodeEntry(encodeEntry(entry, serializers.json), serializers.json)
    expect(decoded).toEqual(entry)
  })

  test('refuses NaN or non-number timestamps, and a non-finite createdAt, with WireFormatError', () => {
    const bad: Array<[number, number, RegExp]> = [
      [NaN, 1, /freshUntil is NaN/],
      [-Infinity, 1, /freshUntil is -Infinity/],
      [1, NaN, /createdAt is NaN/],
      [1, Infinity, /createdAt is Infinity/],
      ['1' as unknown as number, 1, /freshUntil is 1/],
    ]
    for (const [freshUntil, createdAt, message] of bad) {
      expect(() => encodeEntry({ value: 1, freshUntil, createdAt }, serializers.json)).toThrow(WireFormatError)
      expect(() => encodeEntry({ value: 1, freshUntil, createdAt }, serializers.json)).toThrow(message)
    }
  })

  test('lets the serializer error through unwrapped', () => {
    expect(() => encodeEntry({ value: new Map(), freshUntil: 1, createdAt: 1 }, serializers.json)).toThrow(SerializationError)
  })

  test('refuses a serializer that does not return bytes', () => {
    const broken: Serializer = { dumps: () => 'nope' as unknown as Uint8Array, loads: () => null }
    expect(() => encodeEntry({ value: 1, freshUntil: 1, createdAt: 1 }, broken)).toThrow(
      new WireFormatError('serializer.dumps() returned a string, expected a Uint8Array'),
    )
  })

  test('copes with a serializer returning a view into a larger buffer', () => {
    const backing = new Uint8Array([0xaa, 0x7b, 0x7d, 0xbb]) // '{}' in the middle
    const viewing: Serializer = { dumps: () => backing.subarray(1, 3), loads: serializers.json.loads }
    const bytes = encodeEntry({ value: {}, freshUntil: 2, createdAt: 1 }, viewing)
    expect(hex(bytes)).toBe('40000000000000003ff00000000000007b7d')
  })
})

describe('decodeEntry', () => {
  test('decodes the Python test vector', () => {
    expect(decodeEntry(fromHex(VECTOR_HEX), serializers.json)).toEqual(VECTOR_ENTRY)
  })

  test('decodes a Buffer', () => {
    expect(decodeEntry(Buffer.from(VECTOR_HEX, 'hex'), serializers.json)).toEqual(VECTOR_ENTRY)
  })

  test('honours byteOffset: a Buffer slice of a larger allocation', () => {
    const big = Buffer.alloc(100, 0xee)
    Buffer.from(VECTOR_HEX, 'hex').copy(big, 37)
    const slice = big.subarray(37, 37 + 23)
    expect(slice.byteOffset).toBe(37)
    expect(decodeEntry(slice, serializers.json)).toEqual(VECTOR_ENTRY)
    const view = new Uint8Array(big.buffer, big.byteOffset + 37, 23)
    expect(decodeEntry(view, serializers.json)).toEqual(VECTOR_ENTRY)
  })

  test('decodes freshUntil = Infinity', () => {
    const entry = decodeEntry(fromHex('7ff000000000000041d954fc40000000227822'), serializers.json)
    expect(entry).toEqual({ value: 'x', freshUntil: Infinity, createdAt: 1700000000 })
  })

  test('round-trips with the v8 serializer', () => {
    const value = new Map<string, unknown>([['when', new Date(0)], ['n', 10n]])
    const entry = decodeEntry(encodeEntry({ value, freshUntil: 5, createdAt: 4 }, serializers.v8), serializers.v8)
    expect(entry.freshUntil).toBe(5)
    expect(entry.createdAt).toBe(4)
    const decoded = entry.value as Map<string, unknown>
    expect(Object.prototype.toString.call(decoded)).toBe('[object Map]')
    expect(decoded.get('n')).toBe(10n)
    expect((decoded.get('when') as Date).getTime()).toBe(0)
  })

  test('a buffer shorter than the header throws WireFormatError', () => {
    for (let length = 0; length < 16; length++) {
      expect(() => decodeEntry(new Uint8Array(length), serializers.json)).toThrow(
        new WireFormatError(`entry is ${length} bytes, shorter than the 16-byte header`),
      )
    }
  })

  test('a header with no payload is a WireFormatError (empty JSON), with the cause attached', () => {
    const bytes = fromHex(VECTOR_HEX).subarray(0, 16)
    let caught: unknown
    try {
      decodeEntry(bytes, serializers.json)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(WireFormatError)
    expect((caught as WireFormatError).cause).toBeInstanceOf(SerializationError)
    expect((caught as Error).message).toMatch(/^entry payload does not decode: serializers\.json cannot decode the bytes/)
  })

  test('NaN timestamps throw WireFormatError', () => {
    expect(() => decodeEntry(fromHex('7ff8000000000000' + '41d954fc40000000' + '31'), serializers.json)).toThrow(
      /freshUntil is NaN/,
    )
    expect(() => decodeEntry(fromHex('41d954fc40000000' + '7ff8000000000000' + '31'), serializers.json)).toThrow(
      WireFormatError,
    )
  })

  test('a non-bytes input throws WireFormatError', () => {
    expect(() => decodeEntry('hello' as unknown as Uint8Array, serializers.json)).toThrow(
      new WireFormatError('cannot decode a string: expected a Uint8Array or Buffer'),
    )
    expect(() => decodeEntry(null as unknown as Uint8Array, serializers.json)).toThrow(WireFormatError)
  })

  test('wraps whatever a custom serializer throws, even a non-Error', () => {
    const throwing: Serializer = {
      dumps: () => new Uint8Array(),
      loads: () => {
        throw 'boom'
      },
    }
    let caught: unknown
    try {
      decodeEntry(new Uint8Array(20), throwing)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(WireFormatError)
    expect((caught as Error).message).toBe('entry payload does not decode: boom')
    expect((caught as WireFormatError).cause).toBe('boom')
  })

  test('hands the serializer the payload only, as a view (no copy)', () => {
    const seen: Uint8Array[] = []
    const spy: Serializer = { dumps: () => new Uint8Array(), loads: (b) => (seen.push(b), 'ok') }
    const bytes = fromHex(VECTOR_HEX)
    expect(decodeEntry(bytes, spy).value).toBe('ok')
    expect(seen).toHaveLength(1)
    expect(seen[0].buffer).toBe(bytes.buffer)
    expect(seen[0].byteOffset).toBe(16)
    expect(hex(seen[0])).toBe('7b2261223a317d')
  })
})

describe('decodeEntry fuzz (seeded, deterministic)', () => {
  /** Run decodeEntry; return 'ok' or 'wire', and fail the test on any other outcome. */
  function classify(bytes: Uint8Array, serializer: Serializer): 'ok' | 'wire' {
    try {
      const entry = decodeEntry(bytes, serializer)
      // Plain checks, not expect(): this runs 10,000 times.
      if (Number.isNaN(entry.freshUntil) || !Number.isFinite(entry.createdAt)) {
        throw new Error(`decodeEntry returned impossible timestamps for ${hex(bytes)}`)
      }
      return 'ok'
    } catch (error) {
      if (!(error instanceof WireFormatError)) {
        throw new Error(`decodeEntry threw ${String(error)} for ${hex(bytes)}`)
      }
      return 'wire'
    }
  }

  test('10,000 random buffers each decode or throw WireFormatError', () => {
    const random = prng(0xacac4e)
    const validPayloads = ['{"a":1}', '[1,2,3]', '"s"', 'null', '1.5', 'true', '{"x":{"y":[null,"é"]}}']
    const counts = { ok: 0, wire: 0 }
    for (let i = 0; i < 10_000; i++) {
      const mode = i % 4
      let bytes: Uint8Array
      if (mode === 0) {
        // Pure noise, any length up to 64.
        bytes = new Uint8Array(Math.floor(random() * 65))
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256)
      } else if (mode === 1) {
        // A real header with a random (often valid) JSON payload, some bytes flipped.
        const payload = validPayloads[Math.floor(random() * validPayloads.length)]
        bytes = encodeEntry({ value: JSON.parse(payload), freshUntil: 1700000000 + random() * 1e6, createdAt: 1700000000 }, serializers.json)
        const flips = Math.floor(random() * 3)
        for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256)
      } else if (mode === 2) {
        // Random header bytes (NaNs, infinities, subnormals) with a valid payload.
        const header = new Uint8Array(16)
        for (let j = 0; j < 16; j++) header[j] = Math.floor(random() * 256)
        // Force NaN exponents sometimes.
        if (random() < 0.3) header[0] = 0x7f, header[1] = 0xf8 | Math.floor(random() * 8)
        if (random() < 0.3) header[8] = 0xff, header[9] = 0xf0 | Math.floor(random() * 16)
        bytes = new Uint8Array([...header, ...Buffer.from('{"a":1}')])
      } else {
        // Random printable ASCII after a valid header: mostly invalid JSON.
        const length = Math.floor(random() * 20)
        const payload = Array.from({ length }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('')
        bytes = new Uint8Array([...fromHex(VECTOR_HEX).subarray(0, 16), ...Buffer.from(payload, 'latin1')])
      }
      counts[classify(bytes, serializers.json)]++
    }
    expect(counts.ok + counts.wire).toBe(10_000)
    // Both outcomes are exercised; these are exact because the PRNG is seeded.
    expect(counts).toEqual({ ok: 3135, wire: 6865 })
  })

  test('every truncation of valid encodings decodes or throws WireFormatError, exactly as expected', () => {
    const values: unknown[] = [{ a: 1 }, [1, 'two', { three: [3] }], 'héllo ✓', 123456.789, null, true, { nested: { deep: { x: 'y' } } }]
    for (const value of values) {
      const full = encodeEntry({ value, freshUntil: Infinity, createdAt: 1700000000.25 }, serializers.json)
      for (let length = 0; length <= full.length; length++) {
        const truncated = full.subarray(0, length)
        const outcome = classify(truncated, serializers.json)
        if (length < 16) expect(outcome).toBe('wire')
        if (length === full.length) {
          expect(outcome).toBe('ok')
          expect(decodeEntry(truncated, serializers.json)).toEqual({ value, freshUntil: Infinity, createdAt: 1700000000.25 })
        }
      }
    }
  })

  test('truncations of v8 encodings decode or throw WireFormatError', () => {
    const value = { m: new Map([[1, new Set(['a'])]]), d: new Date(5), big: 2n ** 70n, u: undefined }
    const full = encodeEntry({ value, freshUntil: 10, createdAt: 9 }, serializers.v8)
    for (let length = 0; length <= full.length; length++) {
      classify(full.subarray(0, length), serializers.v8)
    }
    expect(classify(full, serializers.v8)).toBe('ok')
  })
})
