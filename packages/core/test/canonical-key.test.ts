import { encodeArg, encodeArgAt, encodeArgs } from '../src/canonical-key.js'
import { SerializationError } from '../src/errors.js'

describe('encodeArg: primitives', () => {
  test.each<[unknown, string]>([
    ['abc', '"abc"'],
    ['', '""'],
    ['say "hi"\n', '"say \\"hi\\"\\n"'],
    ['42', '"42"'],
    [42, '42'],
    [-1.5, '-1.5'],
    [-0, '0'],
    [1e21, '1e+21'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
    [true, 'true'],
    [false, 'false'],
    [null, 'null'],
    [undefined, 'undefined'],
    [1n, '1n'],
    [-12345678901234567890n, '-12345678901234567890n'],
  ])('%p → %s', (value, text) => {
    expect(encodeArg(value, 'x')).toBe(text)
  })

  test('strings are quoted exactly as JSON.stringify does, including surrogates and controls', () => {
    for (const s of ['plain', 'a"b', 'back\\slash', 'tab\t', '\u0000', '\u001f', 'emoji \u{1F600}', 'lone \ud800', 'lone \udfff x', 'é ü 中', '\u2028']) {
      expect(encodeArg(s, 'x')).toBe(JSON.stringify(s))
      expect(encodeArg({ [s]: s }, 'x')).toBe(`{${JSON.stringify(s)}:${JSON.stringify(s)}}`)
    }
  })

  test('a number and its string differ', () => {
    expect(encodeArg(1, 'x')).not.toBe(encodeArg('1', 'x'))
    expect(encodeArg(1n, 'x')).not.toBe(encodeArg(1, 'x'))
    expect(encodeArg(null, 'x')).not.toBe(encodeArg('null', 'x'))
  })
})

describe('encodeArg: objects', () => {
  test('plain objects have sorted keys, so key order does not matter', () => {
    expect(encodeArg({ b: 2, a: 1 }, 'x')).toBe('{"a":1,"b":2}')
    expect(encodeArg({ a: 1, b: 2 }, 'x')).toBe(encodeArg({ b: 2, a: 1 }, 'x'))
    expect(encodeArg({ z: { y: 1, x: [3, { q: 1, p: 2 }] } }, 'x')).toBe('{"z":{"x":[3,{"p":2,"q":1}],"y":1}}')
    expect(encodeArg(Object.assign(Object.create(null), { k: 'v' }), 'x')).toBe('{"k":"v"}')
    expect(encodeArg({ 'a b': 1, '': 2 }, 'x')).toBe('{"":2,"a b":1}')
  })

  test('undefined-valued properties are left out; symbol keys are ignored', () => {
    expect(encodeArg({ a: 1, b: undefined }, 'x')).toBe('{"a":1}')
    expect(encodeArg({ a: 1, [Symbol('s')]: 2 }, 'x')).toBe('{"a":1}')
  })

  test('arrays keep their order', () => {
    expect(encodeArg([3, 1, 2], 'x')).toBe('[3,1,2]')
    expect(encodeArg([], 'x')).toBe('[]')
    expect(encodeArg([1, , undefined], 'x')).toBe('[1,undefined,undefined]')
    expect(encodeArg([[1], ['a']], 'x')).toBe('[[1],["a"]]')
  })

  test('Map and Set keep insertion order', () => {
    expect(encodeArg(new Map<unknown, unknown>([['b', 1], [2, 'a']]), 'x')).toBe('Map{"b":1,2:"a"}')
    expect(encodeArg(new Map([['a', 1], ['b', 2]]), 'x')).not.toBe(encodeArg(new Map([['b', 2], ['a', 1]]), 'x'))
    expect(encodeArg(new Map([[{ id: 1 }, new Set([1])]]), 'x')).toBe('Map{{"id":1}:Set[1]}')
    expect(encodeArg(new Set(['b', 'a']), 'x')).toBe('Set["b","a"]')
    expect(encodeArg(new Set(), 'x')).toBe('Set[]')
    expect(encodeArg(new Map(), 'x')).toBe('Map{}')
  })

  test('Date is its quoted ISO string', () => {
    expect(encodeArg(new Date('2024-01-02T03:04:05.678Z'), 'x')).toBe('"2024-01-02T03:04:05.678Z"')
    expect(encodeArg({ at: new Date(0) }, 'x')).toBe('{"at":"1970-01-01T00:00:00.000Z"}')
    expect(encodeArg(new Date(NaN), 'x')).toBe('"Invalid Date"')
  })

  test('binary data is its type plus base64', () => {
    expect(encodeArg(new Uint8Array([1, 2, 3]), 'x')).toBe('Uint8Array("AQID")')
    expect(encodeArg(Buffer.from('hi'), 'x')).toBe('Buffer("aGk=")')
    expect(encodeArg(new Uint16Array([1]).subarray(0, 1), 'x')).toBe('Uint16Array("AQA=")')
    expect(encodeArg(new Uint8Array([9, 1, 2, 3]).subarray(1), 'x')).toBe('Uint8Array("AQID")')
    expect(encodeArg(new Uint8Array([1]).buffer, 'x')).toBe('ArrayBuffer("AQ==")')
    expect(encodeArg(new DataView(new Uint8Array([255]).buffer), 'x')).toBe('DataView("/w==")')
  })

  test('class instances: class name plus sorted own enumerable properties', () => {
    class Point {
      constructor(
        public y: number,
        public x: number,
      ) {}
      norm() {
        return Math.hypot(this.x, this.y)
      }
    }
    expect(encodeArg(new Point(2, 1), 'x')).toBe('Point{"x":1,"y":2}')
    expect(encodeArg(new Point(2, 1), 'x')).not.toBe(encodeArg({ x: 1, y: 2 }, 'x'))
  })

  test('instances with toJSON, regexps and boxed primitives', () => {
    expect(encodeArg(new URL('https://example.com/a?b=1'), 'x')).toBe('URL("https://example.com/a?b=1")')
    expect(encodeArg(/a+/gi, 'x')).toBe('RegExp("/a+/gi")')
    expect(encodeArg(Object(1n), 'x')).toBe('BigInt(1n)')
    expect(encodeArg(new TypeError('bad'), 'x')).toBe('TypeError("bad")')
    expect(encodeArg(Object.assign(new Error('e'), { code: 'E1' }), 'x')).toBe('Error("e"){"code":"E1"}')
    expect(encodeArg(new String('s'), 'x')).toBe('String("s")')
  })

  test('shared (non-cyclic) references are fine', () => {
    const shared = { id: 1 }
    expect(encodeArg({ a: shared, b: [shared, shared] }, 'x')).toBe('{"a":{"id":1},"b":[{"id":1},{"id":1}]}')
  })
})

describe('encodeArgs', () => {
  test('joins arguments with commas', () => {
    expect(encodeArgs(['bob', { active: true }, 3])).toBe('"bob",{"active":true},3')
    expect(encodeArgs([])).toBe('')
  })

  test('trailing undefined arguments are dropped, inner ones kept', () => {
    expect(encodeArgs([1, undefined])).toBe('1')
    expect(encodeArgs([1, undefined, undefined])).toBe(encodeArgs([1]))
    expect(encodeArgs([undefined])).toBe('')
    expect(encodeArgs([undefined, 1])).toBe('undefined,1')
  })

  test('accepts an arguments object', () => {
    function f(..._args: unknown[]) {
      // eslint-disable-next-line prefer-rest-params
      return encodeArgs(arguments)
    }
    expect(f('a', 1)).toBe('"a",1')
  })

  test('encodeArgAt is the same encoding', () => {
    expect(encodeArgAt({ b: 1, a: 2 }, 0)).toBe('{"a":2,"b":1}')
    expect(encodeArgAt('s', 3)).toBe('"s"')
  })
})

describe('what cannot be encoded throws SerializationError naming the argument', () => {
  const labels = { fnName: 'getUser', params: ['id', 'opts'] }

  test('a function inside an argument', () => {
    const call = () => encodeArgs([1, { callback: () => 0 }], labels)
    expect(call).toThrow(SerializationError)
    expect(call).toThrow('cannot build a cache key for getUser: argument 1 (opts.callback) is a function (callback)')
  })

  test('a function argument', () => {
    expect(() => encodeArgs([function named() {}], labels)).toThrow(
      'cannot build a cache key for getUser: argument 0 (id) is a function (named)',
    )
  })

  test('a symbol, with a path through arrays, Maps and Sets, without a param name', () => {
    expect(() => encodeArgs([1, 2, { list: [0, Symbol('s')] }], labels)).toThrow(
      'cannot build a cache key for getUser: argument 2 (at .list[1]) is a symbol (Symbol(s))',
    )
    expect(() => encodeArgs([1, new Map([['k', Symbol.iterator]])], labels)).toThrow(
      'argument 1 (opts.get("k")) is a symbol (Symbol(Symbol.iterator))',
    )
    expect(() => encodeArgs([new Set([1, () => 0])], labels)).toThrow('argument 0 (id.values()[1]) is a function')
    expect(() => encodeArgs([{ 'a-b': Symbol() }])).toThrow(
      'cannot build a cache key: argument 0 (at ["a-b"]) is a symbol (Symbol())',
    )
  })

  test('a cycle', () => {
    const node: { name: string; next?: unknown } = { name: 'a' }
    node.next = { back: node }
    const call = () => encodeArgs([node], { fnName: 'walk', params: ['node'] })
    expect(call).toThrow(SerializationError)
    expect(call).toThrow('cannot build a cache key for walk: argument 0 (node.next.back) is a circular reference')
    const arr: unknown[] = []
    arr.push(arr)
    expect(() => encodeArg(arr, 'list')).toThrow('cannot build a cache key: list[0] is a circular reference')
  })

  test('promises and weak collections', () => {
    expect(() => encodeArgs([Promise.resolve(1)], labels)).toThrow('argument 0 (id) is a Promise')
    expect(() => encodeArgs([new WeakMap()], labels)).toThrow('argument 0 (id) is a WeakMap, which cannot be enumerated')
  })

  test('encodeArg uses its label', () => {
    expect(() => encodeArg({ f: () => 0 }, 'opts', 'load')).toThrow(
      'cannot build a cache key for load: opts.f is a function (f)',
    )
  })
})
