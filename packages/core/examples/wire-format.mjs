// The wire format remote stores write (byte-compatible with the Python `advanced-caching` library)
// and the serializers: json (default, portable, strict), v8 (structured clone), or your own.
// Run: node examples/wire-format.mjs
import assert from 'node:assert/strict'
import { decodeEntry, encodeEntry, serializers, SerializationError, WireFormatError, WIRE_HEADER_BYTES } from '@acache/core'

const hex = (bytes) => Buffer.from(bytes).toString('hex')
const spaced = (h) => `${h.slice(0, 16)} ${h.slice(16, 32)} ${h.slice(32)}`

// --- the DESIGN §5 test vector ----------------------------------------------------------------
const entry = { value: { a: 1 }, freshUntil: 1700000060, createdAt: 1700000000 }
const bytes = encodeEntry(entry, serializers.json)
const h = hex(bytes)
console.log('encodeEntry({ value: {"a":1}, freshUntil: 1700000060, createdAt: 1700000000 }, serializers.json)')
console.log(`  ${spaced(h)}   (${bytes.byteLength} bytes)`)
console.log('  [freshUntil f64 BE] [createdAt f64 BE] [serialized value]')
assert.equal(h, '41d954fc4f000000' + '41d954fc40000000' + '7b2261223a317d')
assert.equal(bytes.byteLength, 23)
assert.equal(WIRE_HEADER_BYTES, 16)

assert.deepEqual(decodeEntry(bytes, serializers.json), entry)
assert.deepEqual(decodeEntry(Buffer.from(h, 'hex'), serializers.json), entry) // a Buffer works too (e.g. from Redis)

// freshUntil = Infinity for entries without expiry
const forever = encodeEntry({ value: 'x', freshUntil: Infinity, createdAt: 1700000000 }, serializers.json)
assert.equal(hex(forever).slice(0, 16), '7ff0000000000000')
console.log(`  no expiry: freshUntil = Infinity -> ${hex(forever).slice(0, 16)}`)

// Bytes that are not an entry: WireFormatError (a store turns it into a miss + a reported error)
assert.throws(() => decodeEntry(new Uint8Array(10), serializers.json), WireFormatError)
assert.throws(() => decodeEntry(Buffer.concat([bytes.subarray(0, 16), Buffer.from('{oops')]), serializers.json), WireFormatError)
console.log('  10 bytes, or a payload that does not decode -> WireFormatError')

// --- serializers.json refuses what JSON cannot carry faithfully --------------------------------
try {
  serializers.json.dumps({ user: { tags: new Map([['a', 1]]) } })
  assert.fail('expected a SerializationError')
} catch (error) {
  assert.ok(error instanceof SerializationError)
  assert.match(error.message, /cannot represent a Map at \$\.user\.tags/)
  console.log(`\nserializers.json.dumps({ user: { tags: new Map() } }) ->\n  ${error.name}: ${error.message}`)
}
for (const [label, value] of [
  ['a Date', { at: new Date(0) }],
  ['a BigInt', { n: 1n }],
  ['NaN', { x: NaN }],
  ['undefined', { x: undefined }],
  ['an instance of Point', { p: new (class Point { x = 1 })() }],
]) {
  assert.throws(() => serializers.json.dumps(value), (e) => e instanceof SerializationError && e.message.includes(label))
  console.log(`  refuses ${label}`)
}
assert.deepEqual(serializers.json.loads(serializers.json.dumps({ ok: [1, 'two', null, true] })), { ok: [1, 'two', null, true] })

// --- serializers.v8: structured clone (Map, Set, Date, BigInt, cycles); trusted stores only ------
const rich = { tags: new Map([['a', 1n]]), at: new Date(0), ids: new Set([1, 2]) }
rich.self = rich
const back = serializers.v8.loads(serializers.v8.dumps(rich))
assert.ok(back.tags instanceof Map && back.tags.get('a') === 1n)
assert.ok(back.at instanceof Date && back.ids instanceof Set)
assert.equal(back.self, back)
console.log('\nserializers.v8 round-trips Map, Set, Date, BigInt and cycles:', back.tags, back.ids, back.at.toISOString())

// --- a custom serializer: any { dumps(value): Uint8Array, loads(bytes): unknown } ------------------
// e.g. JSON that carries Dates, tagged as {"$date": "..."}
const datesJson = {
  dumps: (value) =>
    new TextEncoder().encode(
      JSON.stringify(value, function (k, v) {
        return this[k] instanceof Date ? { $date: this[k].toISOString() } : v
      }),
    ),
  loads: (bytes) =>
    JSON.parse(new TextDecoder().decode(bytes), (k, v) => (v && typeof v === 'object' && '$date' in v ? new Date(v.$date) : v)),
}
const custom = encodeEntry({ value: { at: new Date(0) }, freshUntil: 1700000060, createdAt: 1700000000 }, datesJson)
const decoded = decodeEntry(custom, datesJson)
assert.ok(decoded.value.at instanceof Date)
assert.equal(decoded.value.at.getTime(), 0)
console.log('custom serializer: { at: Date } ->', new TextDecoder().decode(custom.subarray(WIRE_HEADER_BYTES)), '-> Date again')
console.log('\nwire-format.mjs: OK')
