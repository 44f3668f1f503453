import * as vm from 'node:vm'
import { SerializationError } from '../src/errors.js'
import { resolveSerializer, serializers } from '../src/serializers.js'
import type { Serializer } from '../src/types.js'

const { json, v8 } = serializers
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8')

function refusal(value: unknown): string {
  try {
    json.dumps(value)
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError)
    return (error as Error).message
  }
  throw new Error('expected serializers.json.dumps to refuse')
}

describe('serializers.json dumps', () => {
  test('writes compact UTF-8 JSON as a plain Uint8Array', () => {
    const bytes = json.dumps({ a: 1 })
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype)
    expect(Buffer.from(bytes).toString('hex')).toBe('7b2261223a317d')
    expect(Array.from(json.dumps('é✓'))).toEqual([0x22, 0xc3, 0xa9, 0xe2, 0x9c, 0x93, 0x22])
  })

  test('round-trips plain data exactly', () => {
    const values: unknown[] = [
      null,
      true,
      false,
      0,
      -12.5,
      Number.MAX_SAFE_INTEGER,
      '',
      'unicode ✓ 😀 \u0000 "quoted"',
      [],
      {},
      [1, 'a', null, [2, [3]], { b: false }],
      { user: { id: 7, tags: ['x', 'y'], address: { city: 'Berlin', zip: null } } },
      { 'a key with spaces': 1, __proto__key: 2 },
    ]
    for (const value of values) {
      expect(json.loads(json.dumps(value))).toEqual(value)
    }
  })

  test('accepts shared (non-cyclic) references and writes them twice', () => {
    const shared = { n: 1 }
    expect(text(json.dumps({ a: shared, b: [shared, shared] }))).toBe('{"a":{"n":1},"b":[{"n":1},{"n":1}]}')
  })

  test('accepts null-prototype objects and objects from another realm', () => {
    const bare = Object.create(null) as Record<string, unknown>
    bare.x = 1
    expect(text(json.dumps(bare))).toBe('{"x":1}')
    const foreign = vm.runInNewContext('({ list: [1, { ok: true }] })') as unknown
    expect(text(json.dumps(foreign))).toBe('{"list":[1,{"ok":true}]}')
  })

  test('a lone surrogate survives the round trip (JSON escapes it)', () => {
    const odd = 'a\ud800b'
    expect(json.loads(json.dumps(odd))).toBe(odd)
  })

  test.each<[string, unknown, string]>([
    ['top-level undefined', undefined, 'serializers.json cannot represent undefined at $; a cached value cannot be undefined; use null'],
    ['undefined property', { a: { b: undefined } }, 'serializers.json cannot represent undefined at $.a.b; JSON drops properties whose value is undefined; omit the property or use null'],
    ['undefined element', [1, undefined], 'serializers.json cannot represent undefined at $[1]; JSON turns an undefined array element into null; use null instead'],
    ['array hole', [1, , 3], 'serializers.json cannot represent undefined at $[1]; JSON turns an undefined array element into null; use null instead'],
    ['NaN', { n: NaN }, 'serializers.json cannot represent NaN at $.n; JSON turns it into null; use null or a string instead'],
    ['Infinity', [Infinity], 'serializers.json cannot represent Infinity at $[0]; JSON turns it into null; use null or a string instead'],
    ['-Infinity', -Infinity, 'serializers.json cannot represent -Infinity at $; JSON turns it into null; use null or a string instead'],
    ['BigInt', { id: 1n }, 'serializers.json cannot represent a BigInt at $.id; convert it to a string first, or use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)'],
    ['function', { f: () => 1 }, 'serializers.json cannot represent a function at $.f; functions cannot be cached as data'],
    ['symbol', [Symbol('s')], 'serializers.json cannot represent a symbol at $[0]; symbols cannot be cached as data'],
    ['Map', { user: { tags: new Map() } }, 'serializers.json cannot represent a Map at $.user.tags; JSON would write {}; use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)'],
    ['Set', new Set([1]), 'serializers.json cannot represent a Set at $; JSON would write {}; use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)'],
    ['Date', { at: new Date(0) }, 'serializers.json cannot represent a Date at $.at; JSON would silently turn it into a string; store date.toISOString() or date.getTime(), or use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)'],
    ['RegExp', { re: /x/ }, 'serializers.json cannot represent a RegExp at $.re; JSON would write {}; store its source string instead'],
    ['Uint8Array', { b: new Uint8Array(2) }, 'serializers.json cannot represent a Uint8Array at $.b; JSON would flatten it into an object; use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)'],
    ['Buffer', { b: Buffer.from('x') }, 'serializers.json cannot represent a Buffer at $.b; JSON would flatten it into an object; use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)'],
    ['ArrayBuffer', new ArrayBuffer(4), 'serializers.json cannot represent an ArrayBuffer at $; JSON would flatten it into an object; use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)'],
    ['non-identifier key', { 'a b': { 'c-d': [new Map()] } }, 'serializers.json cannot represent a Map at $["a b"]["c-d"][0]; JSON would write {}; use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)'],
    ['boxed primitive', { n: new Number(1) }, 'serializers.json cannot represent an instance of Number at $.n; it would come back as a plain object; convert it to a plain object first, or use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)'],
  ])('refuses %s, naming it and its path', (_label, value, message) => {
    expect(refusal(value)).toBe(message)
  })

  test('refuses class instances, even with a toJSON(), and array subclasses', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): unknown {
        return { cents: this.cents }
      }
    }
    class Tags extends Array<string> {}
    expect(refusal({ price: new Money(5) })).toBe(
      'serializers.json cannot represent an instance of Money at $.price; it would come back as a plain object; convert it to a plain object first, or use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)',
    )
    expect(refusal(Tags.from(['a']))).toMatch(/^serializers\.json cannot represent an instance of Tags at \$;/)
    expect(refusal(new Error('x'))).toMatch(/^serializers\.json cannot represent an instance of Error at \$;/)
    const anonymous = Object.create({ inherited: 1 }) as object
    expect(refusal(anonymous)).toMatch(/^serializers\.json cannot represent an instance of Object at \$;/)
  })

  test('refuses an own toJSON function as a function', () => {
    expect(refusal({ toJSON: () => 'x' })).toBe('serializers.json cannot represent a function at $.toJSON; functions cannot be cached as data')
  })

  test('refuses cycles, at the point the cycle closes', () => {
    const a: Record<string, unknown> = { name: 'a' }
    a.self = a
    expect(refusal(a)).toBe('serializers.json cannot represent a circular reference at $.self; JSON cannot represent cycles; use serializers.v8')
    const list: unknown[] = [1]
    const holder = { items: [{ list }] }
    list.push(holder)
    expect(refusal(holder)).toBe('serializers.json cannot represent a circular reference at $.items[0].list[1]; JSON cannot represent cycles; use serializers.v8')
  })

  test('refuses a Map created in another realm', () => {
    const foreignMap = vm.runInNewContext('new Map([[1, 2]])') as unknown
    expect(refusal({ m: foreignMap })).toMatch(/^serializers\.json cannot represent a Map at \$\.m;/)
  })

  test('nesting deep enough to overflow the stack is a SerializationError, not a RangeError', () => {
    let deep: unknown = null
    for (let i = 0; i < 200_000; i++) deep = [deep]
    expect(refusal(deep)).toMatch(/^serializers\.json cannot serialize this value: Maximum call stack size exceeded/)
  })

  test('a throwing getter becomes a SerializationError with the cause', () => {
    const failure = new Error('no access')
    const value = {
      get secret(): never {
        throw failure
      },
    }
    let caught: unknown
    try {
      json.dumps(value)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(SerializationError)
    expect((caught as Error).message).toBe('serializers.json cannot serialize this value: no access')
    expect((caught as SerializationError).cause).toBe(failure)
  })
})

describe('serializers.json loads', () => {
  test('parses UTF-8 JSON from a Uint8Array or a Buffer view', () => {
    expect(json.loads(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x31, 0x7d]))).toEqual({ a: 1 })
    const pool = Buffer.from('xx["é",2]yy')
    expect(json.loads(pool.subarray(2, pool.length - 2))).toEqual(['é', 2])
  })

  test('keeps a "__proto__" key as data (no prototype pollution)', () => {
    const parsed = json.loads(Buffer.from('{"__proto__":{"polluted":true}}')) as Record<string, unknown>
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
    expect(Object.keys(parsed)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  test('invalid UTF-8 throws SerializationError', () => {
    const invalid = new Uint8Array([0x22, 0xff, 0x22])
    expect(() => json.loads(invalid)).toThrow(SerializationError)
    expect(() => json.loads(invalid)).toThrow(/^serializers\.json cannot decode the bytes: not valid UTF-8$/)
  })

  test('invalid JSON throws SerializationError with the parser error as cause', () => {
    let caught: unknown
    try {
      json.loads(Buffer.from('{"a":'))
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(SerializationError)
    expect((caught as Error).message).toMatch(/^serializers\.json cannot decode the bytes: /)
    expect((caught as SerializationError).cause).toBeInstanceOf(SyntaxError)
    expect(() => json.loads(new Uint8Array())).toThrow(SerializationError)
    // Python's json.dumps writes NaN by default; JSON.parse cannot read it.
    expect(() => json.loads(Buffer.from('[NaN]'))).toThrow(SerializationError)
  })

  test('a non-bytes argument throws SerializationError', () => {
    expect(() => json.loads('{}' as unknown as Uint8Array)).toThrow(
      new SerializationError('serializers.json.loads expects a Uint8Array, got string'),
    )
  })
})

describe('serializers.v8', () => {
  test('round-trips what JSON cannot carry', () => {
    const shared = { s: 1 }
    const value = {
      map: new Map<unknown, unknown>([[1, 'one'], ['k', new Set([1, 2])]]),
      date: new Date(1700000000000),
      big: 2n ** 80n,
      u: undefined,
      nan: NaN,
      re: /ab+c/gi,
      bytes: new Uint8Array([1, 2, 3]),
      a: shared,
      b: shared,
    }
    const bytes = v8.dumps(value)
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype)
    const back = v8.loads(bytes) as typeof value
    // node:v8 builds objects in the main realm, so compare by content, not by prototype identity.
    expect(Object.prototype.toString.call(back.map)).toBe('[object Map]')
    expect([...back.map.keys()]).toEqual([1, 'k'])
    expect([...(back.map.get('k') as Set<number>)]).toEqual([1, 2])
    expect(back.date.getTime()).toBe(1700000000000)
    expect(back.big).toBe(2n ** 80n)
    expect('u' in back && back.u === undefined).toBe(true)
    expect(Number.isNaN(back.nan)).toBe(true)
    expect(back.re.source).toBe('ab+c')
    expect(back.re.flags).toBe('gi')
    expect(Array.from(back.bytes)).toEqual([1, 2, 3])
    expect(back.a).toBe(back.b)
  })

  test('round-trips cycles', () => {
    const a: Record<string, unknown> = { name: 'a' }
    a.self = a
    const back = v8.loads(v8.dumps(a)) as Record<string, unknown>
    expect(back.self).toBe(back)
    expect(back.name).toBe('a')
  })

  test('refuses functions and symbols with SerializationError', () => {
    expect(() => v8.dumps({ f: () => 1 })).toThrow(SerializationError)
    expect(() => v8.dumps(Symbol('x'))).toThrow(/^serializers\.v8 cannot serialize this value: /)
  })

  test('garbage bytes throw SerializationError', () => {
    expect(() => v8.loads(new Uint8Array([1, 2, 3]))).toThrow(SerializationError)
    expect(() => v8.loads(new Uint8Array())).toThrow(/^serializers\.v8 cannot decode the bytes: /)
    expect(() => v8.loads(null as unknown as Uint8Array)).toThrow(
      new SerializationError('serializers.v8.loads expects a Uint8Array, got object'),
    )
  })
})

describe('serializers object', () => {
  test('is frozen, as are its members', () => {
    expect(Object.isFrozen(serializers)).toBe(true)
    expect(Object.isFrozen(serializers.json)).toBe(true)
    expect(Object.isFrozen(serializers.v8)).toBe(true)
    expect(Object.keys(serializers)).toEqual(['json', 'v8'])
  })
})

describe('resolveSerializer', () => {
  test('undefined and aliases resolve to the built-ins', () => {
    expect(resolveSerializer(undefined)).toBe(serializers.json)
    expect(resolveSerializer('json')).toBe(serializers.json)
    expect(resolveSerializer('v8')).toBe(serializers.v8)
  })

  test('an object (or function) with dumps and loads is returned as is', () => {
    const custom: Serializer = { dumps: () => new Uint8Array([1]), loads: () => 'x' }
    expect(resolveSerializer(custom)).toBe(custom)
    const asFunction = Object.assign(() => undefined, { dumps: custom.dumps, loads: custom.loads })
    expect(resolveSerializer(asFunction)).toBe(asFunction)
  })

  test('an unknown alias is a TypeError naming the option and the aliases', () => {
    expect(() => resolveSerializer('yaml' as 'json')).toThrow(
      new TypeError(`Invalid serializer: unknown alias "yaml"; expected 'json', 'v8' or an object with dumps() and loads() functions`),
    )
    expect(() => resolveSerializer('msgpack' as 'json', 'RedisCache serializer')).toThrow(
      new TypeError(`Invalid RedisCache serializer: unknown alias "msgpack"; expected 'json', 'v8' or an object with dumps() and loads() functions`),
    )
  })

  test('other values are TypeErrors describing what was given', () => {
    const expected = `expected 'json', 'v8' or an object with dumps() and loads() functions`
    expect(() => resolveSerializer({ dumps: () => new Uint8Array() } as unknown as Serializer)).toThrow(
      new TypeError(`Invalid serializer: got an object without dumps()/loads() functions; ${expected}`),
    )
    expect(() => resolveSerializer(null as unknown as Serializer)).toThrow(new TypeError(`Invalid serializer: got null; ${expected}`))
    expect(() => resolveSerializer(42 as unknown as Serializer, 'codec')).toThrow(new TypeError(`Invalid codec: got a number; ${expected}`))
  })
})
