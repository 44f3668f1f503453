import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cache, decodeEntry, encodeEntry, SerializationError, type CacheEntry } from '@acache/core'
import { LocalFileCache } from '@acache/file'
import { decode as referenceDecode, encode as referenceEncode } from '@msgpack/msgpack'
import { createMsgpackSerializer, MAP_EXTENSION_TYPE, msgpack } from '../src/index.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

describe('msgpack serializer', () => {
  test('round-trips nested objects, arrays, Uint8Array, Date, Map and 64-bit integers', () => {
    const value = {
      user: { id: 7, name: 'Ada', tags: ['a', 'b'], score: 1.5, active: true, nothing: null },
      bytes: new Uint8Array([0, 1, 254, 255]),
      when: new Date(1_700_000_000_123),
      index: new Map<unknown, unknown>([
        ['k', { nested: new Map([[1, [new Date(0)]]]) }],
        [2, 'two'],
      ]),
      big: 2n ** 62n,
      list: [[1, [2, [3]]], {}],
    }
    const back = msgpack.loads(msgpack.dumps(value)) as typeof value
    expect(back).toEqual(value)
    expect(back.bytes).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(back.bytes)).toBe(false)
    expect(back.when).toBeInstanceOf(Date)
    expect(back.index).toBeInstanceOf(Map)
    expect((back.index.get('k') as { nested: Map<number, Date[]> }).nested.get(1)![0]).toEqual(new Date(0))
    expect(typeof back.big).toBe('bigint')
  })

  test('does not modify the value it encodes (Maps are swapped on a copy)', () => {
    const inner = new Map([['a', 1]])
    const value = { list: [inner], other: { x: 1 } }
    msgpack.dumps(value)
    expect(value.list[0]).toBe(inner)
    expect(value).toEqual({ list: [new Map([['a', 1]])], other: { x: 1 } })
  })

  test('fixed test vector: plain values are standard MessagePack', () => {
    // {"a":1} → fixmap(1) "a" 1
    expect(hex(msgpack.dumps({ a: 1 }))).toBe('81a16101')
    expect(hex(msgpack.dumps([1, 'x', null, true, 1.5]))).toBe('9501a178c0c3cb3ff8000000000000')
    expect(hex(msgpack.dumps(new Uint8Array([1, 2])))).toBe('c4020102')
    // Date → timestamp extension −1 (timestamp 64: nanoseconds 123000000, seconds 1700000000)
    expect(hex(msgpack.dumps(new Date(1_700_000_000_123)))).toBe('d7ff1d5353006553f100')
    // The wire format of DESIGN §5 with msgpack instead of JSON: the same 16-byte header.
    const entry: CacheEntry = { value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }
    expect(hex(encodeEntry(entry, msgpack))).toBe('41d954fc4f000000' + '41d954fc40000000' + '81a16101')
  })

  test('interoperates with another MessagePack library both ways', () => {
    const plain = { id: 1, name: 'n', list: [1, 2.5, 'x', null, false], nested: { deep: [{}] }, bytes: new Uint8Array([9]), at: new Date(1_600_000_000_000) }
    expect(referenceDecode(msgpack.dumps(plain))).toEqual(plain)
    expect(msgpack.loads(referenceEncode(plain))).toEqual(plain)
    // Our bytes for plain values are exactly the reference encoder's.
    const noDate = { id: 1, name: 'n', list: [1, 2.5, 'x', null, false], nested: { deep: [{}] }, bytes: new Uint8Array([9]) }
    expect(hex(msgpack.dumps(noDate))).toBe(hex(referenceEncode(noDate)))
    // A Map is an extension other libraries see as such.
    const ext = referenceDecode(msgpack.dumps(new Map([['a', 1]]))) as { type: number; data: Uint8Array }
    expect(ext.type).toBe(MAP_EXTENSION_TYPE)
    expect(referenceDecode(ext.data)).toEqual([['a', 1]]) // its payload: the [key, value] pairs
  })

  test.each([
    ['a function', { f: () => 1 }, /a function at \$\.f/],
    ['a symbol', [Symbol('s')], /a symbol at \$\[0\]/],
    ['a Set', { s: new Set([1]) }, /a Set at \$\.s/],
    ['a class instance', { u: new (class User {})() }, /a User at \$\.u/],
    ['a Float64Array', { f: new Float64Array([1]) }, /a Float64Array at \$\.f/],
    ['a cycle', (() => { const o: Record<string, unknown> = {}; o.self = o; return o })(), /a circular reference at \$\.self/],
    ['inside a Map', new Map([['k', () => 1]]), /a function at \$\.k/],
    ['a bigint past 64 bits', { n: 2n ** 70n }, /cannot encode/],
  ])('refuses %s with a SerializationError naming the path', (_what, value, message) => {
    expect(() => msgpack.dumps(value)).toThrow(SerializationError)
    expect(() => msgpack.dumps(value)).toThrow(message)
  })

  test('corrupt bytes are a SerializationError, and a corrupt wire entry a WireFormatError', () => {
    expect(() => msgpack.loads(new Uint8Array([0xc1]))).toThrow(SerializationError)
    expect(() => msgpack.loads(new Uint8Array([0x92, 0x01]))).toThrow(SerializationError)
    const bytes = encodeEntry({ value: { a: 1 }, freshUntil: 1, createdAt: 0 }, msgpack)
    expect(() => decodeEntry(bytes.subarray(0, 18), msgpack)).toThrow(/WireFormatError|decode/)
  })

  test('decoded bins do not alias the input buffer', () => {
    const bytes = msgpack.dumps({ b: new Uint8Array([1, 2, 3]) })
    const back = msgpack.loads(bytes) as { b: Uint8Array }
    bytes.fill(0)
    expect([...back.b]).toEqual([1, 2, 3])
  })

  test('options: int64As number, and bad options are TypeErrors naming the option', () => {
    const asNumber = createMsgpackSerializer({ int64As: 'number' })
    expect(asNumber.loads(msgpack.dumps(2n ** 60n))).toBe(2 ** 60)
    expect(() => createMsgpackSerializer({ int64As: 'string' as never })).toThrow(/"int64As"/)
    expect(() => createMsgpackSerializer({ nope: 1 } as never)).toThrow(/unknown option "nope"/)
  })

  test('real traffic: cache() over a LocalFileCache (a real directory) with msgpack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acache-msgpack-'))
    try {
      const store = new LocalFileCache(dir, { serializer: msgpack, onError: 'raise' })
      let calls = 0
      const getProfile = cache(60, { key: 'profile:{0}', store })(async (id: number) => {
        calls++
        return { id, seen: new Date(1_700_000_000_000), roles: new Map([['admin', true]]), avatar: new Uint8Array([7]) }
      })
      const first = await getProfile(1)
      const second = await getProfile(1)
      expect(calls).toBe(1)
      expect(second).toEqual(first)
      expect(second).not.toBe(first) // read back from the file
      expect(second.roles).toBeInstanceOf(Map)
      expect(second.seen).toBeInstanceOf(Date)
      // The file ends with the wire format: 16-byte header, then exactly the msgpack bytes.
      const files = readdirSync(dir)
      expect(files).toHaveLength(1)
      expect(hex(readFileSync(join(dir, files[0]))).endsWith(hex(msgpack.dumps(first)))).toBe(true)
      // An unserializable value is refused, naming the key, and nothing is stored.
      const getBad = cache(60, { key: 'bad:{0}', store })(async (_id: number) => ({ fn: () => 1 }))
      await expect(getBad(1)).rejects.toThrow(/bad:1/)
      expect(readdirSync(dir)).toHaveLength(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
