import { KeyTemplateError, SerializationError } from '../src/errors.js'
import { compileKey } from '../src/key-template.js'

const evalFn = (src: string): Function => (0, eval)(`(${src})`) as Function

async function getUser(id: number) {
  return id
}
function search(query: string, page = 1, opts: { sort?: string } = {}) {
  return [query, page, opts]
}
const byOpts = (opts: { id: number; region?: string; user?: { name: string } }) => opts
const anyArgs = (...args: unknown[]) => args

describe('default key: name(<canonical args>)', () => {
  test('encodes every argument', () => {
    const kb = compileKey(undefined, search, 'search')
    expect(kb(['bob'])).toBe('search("bob")')
    expect(kb(['bob', 2, { sort: 'asc' }])).toBe('search("bob",2,{"sort":"asc"})')
    expect(kb.usesArgs).toBe(true)
    expect(kb.one).toBeUndefined() // depends on every argument
  })

  test('object key order does not matter; Map/Set order does; Date is ISO', () => {
    const kb = compileKey(undefined, anyArgs, 'f')
    expect(kb([{ a: 1, b: 2 }])).toBe(kb([{ b: 2, a: 1 }]))
    expect(kb([{ a: 1, b: 2 }])).toBe('f({"a":1,"b":2})')
    expect(kb([new Set([1, 2])])).toBe('f(Set[1,2])')
    expect(kb([new Set([1, 2])])).not.toBe(kb([new Set([2, 1])]))
    expect(kb([new Map([['x', 1]])])).toBe('f(Map{"x":1})')
    expect(kb([new Date('2024-05-06T07:08:09.000Z')])).toBe('f("2024-05-06T07:08:09.000Z")')
  })

  test('trailing undefined arguments are dropped', () => {
    const kb = compileKey(undefined, search, 'search')
    expect(kb(['q', undefined])).toBe('search("q")')
    expect(kb(['q', undefined, undefined])).toBe(kb(['q']))
    expect(kb([undefined, 1])).toBe('search(undefined,1)')
  })

  test('no arguments: a stable key', () => {
    const kb = compileKey(undefined, () => 1, 'loadFlags')
    expect(kb([])).toBe('loadFlags()')
    expect(kb([])).toBe(kb([]))
    expect(kb.unary!(undefined)).toBe('loadFlags()')
  })

  test('unary builds the one-argument key without an array', () => {
    const kb = compileKey(undefined, getUser, 'getUser')
    expect(kb.unary!(42)).toBe('getUser(42)')
    expect(kb.unary!('42')).toBe('getUser("42")')
    expect(kb.unary!({ b: 1, a: 2 })).toBe(kb([{ a: 2, b: 1 }]))
  })

  test('arguments that cannot be encoded throw SerializationError naming function and argument', () => {
    const kb = compileKey(undefined, search, 'search')
    const call = () => kb(['q', 1, { callback: () => 0 }])
    expect(call).toThrow(SerializationError)
    expect(call).toThrow('cannot build a cache key for search: argument 2 (opts.callback) is a function')
    expect(() => kb([Symbol('s')])).toThrow('cannot build a cache key for search: argument 0 (query) is a symbol')
    const cyc: Record<string, unknown> = {}
    cyc.self = cyc
    expect(() => kb.unary!(cyc)).toThrow('argument 0 (query.self) is a circular reference')
  })
})

describe('key functions', () => {
  test('are called with the arguments', () => {
    const kb = compileKey((q: string, page: number) => `s:${q}:${page}`, search, 'search')
    expect(kb(['bob', 3])).toBe('s:bob:3')
    expect(kb.unary!('x')).toBe('s:x:undefined')
    expect(kb.usesArgs).toBe(true)
    expect(kb.one).toBeUndefined()
  })

  test('a number result is stringified', () => {
    const kb = compileKey(((id: number) => id * 2) as unknown as (id: number) => string, getUser, 'getUser')
    expect(kb([21])).toBe('42')
  })

  test.each<[unknown, string]>([
    [undefined, 'undefined'],
    [null, 'null'],
    [{}, 'an object'],
    [true, 'true'],
  ])('returning %p is a TypeError naming option "key"', (ret, got) => {
    const kb = compileKey((() => ret) as () => string, getUser, 'getUser')
    expect(() => kb([1])).toThrow(TypeError)
    expect(() => kb([1])).toThrow(`option "key" of getUser must return a string (got ${got})`)
  })

  test('a key that is neither string nor function is a TypeError', () => {
    expect(() => compileKey(42 as unknown as string, getUser, 'getUser')).toThrow(
      new TypeError('option "key" of getUser must be a string template or a function (got number)'),
    )
    expect(() => compileKey('', getUser, 'getUser')).toThrow(TypeError)
  })
})

describe('templates: static keys and escaping', () => {
  test('a template without placeholders is static', () => {
    const kb = compileKey('feature_flags', () => 0, 'load')
    expect(kb([])).toBe('feature_flags')
    expect(kb([1, 2])).toBe('feature_flags')
    expect(kb.usesArgs).toBe(false)
    expect(kb.staticKey).toBe('feature_flags')
    expect(kb.one!(99)).toBe('feature_flags')
  })

  test('{{ and }} are literal braces', () => {
    expect(compileKey('a{{b}}c', getUser, 'getUser')([1])).toBe('a{b}c')
    expect(compileKey('{{{id}}}', getUser, 'getUser')([1])).toBe('{1}')
    expect(compileKey('{{}}', getUser, 'getUser').staticKey).toBe('{}')
    expect(compileKey('{{id}}:{id}', getUser, 'getUser')([7])).toBe('{id}:7')
  })
})

describe('templates: positional placeholders', () => {
  test('{} is auto-numbered', () => {
    const kb = compileKey('s:{}:{}', search, 'search')
    expect(kb(['bob', 2])).toBe('s:bob:2')
    expect(compileKey('user:{}', getUser, 'getUser')([5])).toBe('user:5')
  })

  test('{0} and {1} by index; a missing argument takes the literal default', () => {
    const kb = compileKey('s:{1}:{0}', search, 'search')
    expect(kb(['bob', 2])).toBe('s:2:bob')
    expect(kb(['bob'])).toBe('s:1:bob')
    expect(kb(['bob', undefined])).toBe('s:1:bob')
  })

  test('three or more placeholders', () => {
    const kb = compileKey('{0}-{1}-{2.sort}-{query}', search, 'search')
    expect(kb(['q', 3, { sort: 'asc' }])).toBe('q-3-asc-q')
  })

  test('index beyond the parameters is a decoration-time error', () => {
    const call = () => compileKey('s:{3}', search, 'search')
    expect(call).toThrow(KeyTemplateError)
    expect(call).toThrow(
      "key template 's:{3}' for search: placeholder {3} refers to argument 3, but search(query, page, opts) takes 3 parameters",
    )
    expect(() => compileKey('{}:{}', getUser, 'getUser')).toThrow(
      "key template '{}:{}' for getUser: placeholder {} refers to argument 1, but getUser(id) takes 1 parameter",
    )
  })

  test('any index is accepted with a rest parameter or unknown parameters', () => {
    expect(compileKey('{3}', anyArgs, 'f')([0, 1, 2, 'three'])).toBe('three')
    const bound = search.bind(null)
    expect(compileKey('{1}', bound, 'bound')(['a', 'b'])).toBe('b')
  })
})

describe('templates: named placeholders', () => {
  test('{name} resolves by parameter name, with literal defaults', () => {
    const kb = compileKey('search:{query}:{page}', search, 'search')
    expect(kb(['bob', 3])).toBe('search:bob:3')
    expect(kb(['bob'])).toBe('search:bob:1')
  })

  test('the documented example: user:{id}', () => {
    const kb = compileKey('user:{id}', getUser, 'getUser')
    expect(kb([42])).toBe('user:42')
    expect(kb.one!(42)).toBe('user:42')
    expect(kb.unary!(42)).toBe('user:42')
  })

  test('a needed non-literal default is a call-time KeyTemplateError', () => {
    const kb = compileKey('s:{query}:{opts.sort}', search, 'search')
    expect(kb(['q', 1, { sort: 'asc' }])).toBe('s:q:asc')
    const call = () => kb(['q'])
    expect(call).toThrow(KeyTemplateError)
    expect(call).toThrow(
      "key template 's:{query}:{opts.sort}' for search: placeholder {opts.sort} needs the default value of parameter opts (= {}), which cannot be evaluated outside the function",
    )
  })

  test('class methods parse from their source (async, defaults)', () => {
    const A = evalFn('class A { async get(id, opts = {}) { return id } }') as new () => { get: Function }
    const kb = compileKey('a:{id}', A.prototype.get, 'A.get')
    expect(kb([7, { x: 1 }])).toBe('a:7')
    expect(kb.one!(7)).toBe('a:7')
    expect(() => compileKey('a:{nope}', A.prototype.get, 'A.get')).toThrow(
      "key template 'a:{nope}' for A.get: placeholder {nope} names no parameter of A.get(id, opts)",
    )
  })

  test('a TypeScript class method (transpiled) works the same', () => {
    class Users {
      async get(id: number, opts: { fresh?: boolean } = {}) {
        return [id, opts]
      }
    }
    expect(compileKey('user:{id}', Users.prototype.get, 'Users.get')([3])).toBe('user:3')
  })

  test('unknown name with 2+ named parameters is a decoration-time error', () => {
    const call = () => compileKey('s:{qeury}', search, 'search')
    expect(call).toThrow(KeyTemplateError)
    expect(call).toThrow(
      new KeyTemplateError("key template 's:{qeury}' for search: placeholder {qeury} names no parameter of search(query, page, opts)"),
    )
  })

  test('destructured first parameter among several: hint to use {0.name}', () => {
    const fn = evalFn('({ id }, opts) => id')
    expect(() => compileKey('{id}', fn, 'f')).toThrow(
      "key template '{id}' for f: placeholder {id} names no parameter of f(<pattern>, opts) (for a property of a destructured argument, write {0.id})",
    )
    expect(compileKey('{0.id}', fn, 'f')([{ id: 5 }])).toBe('5')
  })

  test('a function without parameters cannot resolve a name', () => {
    expect(() => compileKey('k:{id}', () => 0, 'noParams')).toThrow(
      "key template 'k:{id}' for noParams: placeholder {id} cannot be resolved: noParams() takes no parameters",
    )
  })
})

describe('templates: single object argument and paths', () => {
  test('{name} is a property of the single object argument', () => {
    const kb = compileKey('user:{id}:{region}', byOpts, 'byOpts')
    expect(kb([{ id: 1, region: 'eu' }])).toBe('user:1:eu')
    expect(kb.one!({ region: 'us', id: 2 })).toBe('user:2:us')
  })

  test('also for destructured, rest-only and bound functions', () => {
    expect(compileKey('{id}', evalFn('({ id, name }) => id'), 'f')([{ id: 9 }])).toBe('9')
    expect(compileKey('{id}', anyArgs, 'f')([{ id: 'a' }])).toBe('a')
    expect(compileKey('{id}', byOpts.bind(null), 'bound')([{ id: 'b' }])).toBe('b')
  })

  test('the parameter itself by name', () => {
    expect(compileKey('{opts}', byOpts, 'byOpts')([{ id: 1, region: 'x' }])).toBe('{"id":1,"region":"x"}')
  })

  test('paths: param name, index or property first, then properties', () => {
    expect(compileKey('{opts.user.name}', byOpts, 'f')([{ id: 1, user: { name: 'ann' } }])).toBe('ann')
    expect(compileKey('{0.user.name}', byOpts, 'f')([{ id: 1, user: { name: 'ann' } }])).toBe('ann')
    expect(compileKey('{user.name}', byOpts, 'f')([{ id: 1, user: { name: 'ann' } }])).toBe('ann')
    expect(compileKey('{user.name}', byOpts, 'f').one!({ id: 1, user: { name: 'bo' } })).toBe('bo')
    expect(compileKey('{args.1}', anyArgs, 'f')(['a', 'b'])).toBe('b')
    expect(compileKey('{args}', anyArgs, 'f')(['a', 2])).toBe('["a",2]')
    expect(compileKey('{tags.0}', (tags: string[]) => tags, 'f')([['x', 'y']])).toBe('x')
  })

  test('a placeholder resolving to undefined is a call-time KeyTemplateError', () => {
    const kb = compileKey('user:{id}', getUser, 'getUser')
    expect(() => kb([])).toThrow(KeyTemplateError)
    expect(() => kb([])).toThrow(
      "key template 'user:{id}' for getUser: placeholder {id} resolved to undefined (argument 0 (id) is undefined)",
    )
    expect(() => kb.one!(undefined)).toThrow('placeholder {id} resolved to undefined')

    const prop = compileKey('u:{region}', byOpts, 'byOpts')
    expect(() => prop([{ id: 1 }])).toThrow(
      "key template 'u:{region}' for byOpts: placeholder {region} resolved to undefined (opts.region is undefined)",
    )
    const deep = compileKey('u:{user.name}', byOpts, 'byOpts')
    expect(() => deep.one!({ id: 1 })).toThrow(
      "key template 'u:{user.name}' for byOpts: placeholder {user.name} resolved to undefined (opts.user is undefined)",
    )
    expect(() => deep([{ id: 1, user: null }])).toThrow('placeholder {user.name} resolved to undefined (opts.user is null)')
    expect(() => deep([null])).toThrow('placeholder {user.name} resolved to undefined (argument 0 (opts) is null)')
  })
})

describe('templates: placeholder values', () => {
  const kb = compileKey('v:{0}', anyArgs, 'f')
  test.each<[unknown, string]>([
    ['str', 'v:str'],
    [42, 'v:42'],
    [-0, 'v:0'],
    [1.5, 'v:1.5'],
    [true, 'v:true'],
    [10n, 'v:10'],
    [null, 'v:null'],
    [new Date('2024-01-01T00:00:00.000Z'), 'v:2024-01-01T00:00:00.000Z'],
    [{ b: 1, a: [2] }, 'v:{"a":[2],"b":1}'],
    [new Map([['k', 1]]), 'v:Map{"k":1}'],
  ])('%p → %s', (value, key) => {
    expect(kb([value])).toBe(key)
    expect(kb.one!(value)).toBe(key)
  })

  test('a function or symbol in a placeholder value throws SerializationError', () => {
    expect(() => kb([{ f: () => 0 }])).toThrow(SerializationError)
    expect(() => kb([{ f: () => 0 }])).toThrow('cannot build a cache key for f: placeholder {0}.f is a function')
    expect(() => kb([Symbol('x')])).toThrow('cannot build a cache key for f: placeholder {0} is a symbol')
  })
})

describe('templates: decoration-time syntax errors name template, placeholder and function', () => {
  test.each([
    ['user:{id', "key template 'user:{id' for getUser: placeholder {id has no closing '}' (write '{{' for a literal '{')"],
    ['user:{i{d}', "key template 'user:{i{d}' for getUser: placeholder {i has no closing '}'"],
    ['user:id}', "key template 'user:id}' for getUser: unmatched '}' at position 7 (write '}}' for a literal '}')"],
    ['user:{ id }', "key template 'user:{ id }' for getUser: placeholder { id } is not valid"],
    ['user:{id..x}', "key template 'user:{id..x}' for getUser: placeholder {id..x} is not valid"],
    ['user:{a-b}', "key template 'user:{a-b}' for getUser: placeholder {a-b} is not valid"],
  ])('%s', (template, message) => {
    expect(() => compileKey(template, getUser, 'getUser')).toThrow(KeyTemplateError)
    expect(() => compileKey(template, getUser, 'getUser')).toThrow(message)
  })
})

describe('one: set only when the key depends on the first argument alone', () => {
  test.each<[string, Function, boolean]>([
    ['{id}', getUser, true],
    ['{0}:{0}', getUser, true],
    ['{query}:{query}', search, true],
    ['{query}:{page}', search, false],
    ['{1}', search, false],
    ['{region}', byOpts, true],
    ['{args}', anyArgs, false],
    ['{0}:{0}:{0}', anyArgs, true],
  ])('%s', (template, fn, hasOne) => {
    const kb = compileKey(template, fn, 'f')
    expect(kb.one !== undefined).toBe(hasOne)
    expect(typeof kb.unary).toBe('function')
  })

  test('one(a0) equals the full builder for calls with more arguments', () => {
    const kb = compileKey('q:{query}', search, 'search')
    expect(kb.one!('x')).toBe(kb(['x', 5, { sort: 'd' }]))
  })

  test('unary for a template on a later argument applies that argument\'s default', () => {
    const kb = compileKey('{query}:{page}', search, 'search')
    expect(kb.unary!('x')).toBe('x:1')
  })
})
