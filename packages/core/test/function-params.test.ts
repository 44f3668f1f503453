import { parseDefault, parseParams, parseSource } from '../src/function-params.js'

// Tests run through swc, which reformats function sources; `evalFn` keeps the exact text.
const evalFn = (src: string): Function => (0, eval)(`(${src})`) as Function
const lit = (value: unknown) => ({ kind: 'literal', value })
const expr = (text: string) => ({ kind: 'expression', text })

describe('parseParams: function shapes', () => {
  test.each([
    ['function getUser(id, opts) { return id }', ['id', 'opts']],
    ['function (a) {}', ['a']],
    ['async function getUser(id) {}', ['id']],
    ['function* gen(a, b) {}', ['a', 'b']],
    ['async function * gen (a) {}', ['a']],
    ['function named() {}', []],
    ['a => a', ['a']],
    ['async a => a', ['a']],
    ['async(a, b) => a', ['a', 'b']],
    ['(a, b) => a + b', ['a', 'b']],
    ['() => 1', []],
    ['(a,) => a', ['a']],
    ['({ get(id) { return id } }).get', ['id']],
    ['({ async get(id, opts) {} }).get', ['id', 'opts']],
    ['({ *gen(x) {} }).gen', ['x']],
    ['({ async *gen(x) {} }).gen', ['x']],
    ["({ 'quoted (name'(x) {} })['quoted (name']", ['x']],
    ['({ [`comp(`+1](x, y) {} })["comp(1"]', ['x', 'y']],
    ['({ async(x) {} }).async', ['x']],
    ['({ static(x) {} }).static', ['x']],
    ['({ 42(x) {} })[42]', ['x']],
    ['Object.getOwnPropertyDescriptor({ set value(v) {} }, "value").set', ['v']],
  ])('%s', (src, names) => {
    const fn = src.startsWith('(') || src.startsWith('Object') ? (0, eval)(src) : evalFn(src)
    const p = parseParams(fn)
    expect(p.unknown).toBe(false)
    expect(p.names).toEqual(names)
    expect(p.hasRest).toBe(false)
  })

  test('class methods: async, static, #private, computed, with defaults', () => {
    const A = (0, eval)(`(class A {
      async get(id, opts = {}) { return id }
      static find(query, limit = 10) {}
      #secret(token = 'x') {}
      [Symbol.for('m')](z = -1) {}
      static expose(a) { return a.#secret }
    })`)
    const get = parseParams(A.prototype.get)
    expect(get).toEqual({ names: ['id', 'opts'], defaults: [undefined, expr('{}')], hasRest: false, unknown: false })
    expect(parseParams(A.find)).toMatchObject({ names: ['query', 'limit'], defaults: [undefined, lit(10)] })
    expect(parseParams(A.prototype[Symbol.for('m')])).toMatchObject({ names: ['z'], defaults: [lit(-1)] })
    expect(parseSource(`#secret(token = 'x') {}`)).toMatchObject({ names: ['token'], defaults: [lit('x')] })
    expect(parseSource(`static async get(id) {}`)).toMatchObject({ names: ['id'] })
  })

  test('methods compiled by the test transpiler still parse', () => {
    class Users {
      async get(id: number, opts: { fresh?: boolean } = {}) {
        return [id, opts]
      }
    }
    expect(parseParams(Users.prototype.get)).toMatchObject({ names: ['id', 'opts'], unknown: false })
  })

  test('bound, native and class constructors are unknown', () => {
    const bound = function (a: number) {
      return a
    }.bind(null)
    for (const fn of [bound, Math.max, class X {}, evalFn('class Y { constructor(a) {} }')]) {
      expect(parseParams(fn)).toEqual({ names: [], defaults: [], hasRest: false, unknown: true })
    }
  })

  test('results are cached per function', () => {
    const f = (a: number) => a
    expect(parseParams(f)).toBe(parseParams(f))
  })
})

describe('parseParams: patterns and rest', () => {
  test('destructured parameters have no name but keep their position', () => {
    expect(parseParams(evalFn('({ a, b }, [x, y], c) => 0'))).toEqual({
      names: [undefined, undefined, 'c'],
      defaults: [undefined, undefined, undefined],
      hasRest: false,
      unknown: false,
    })
    expect(parseParams(evalFn('({ a = 1, b: { c } } = {}, d = 2) => 0'))).toEqual({
      names: [undefined, 'd'],
      defaults: [expr('{}'), lit(2)],
      hasRest: false,
      unknown: false,
    })
  })

  test('rest parameters', () => {
    expect(parseParams(evalFn('function (a, ...rest) {}'))).toEqual({
      names: ['a'],
      defaults: [undefined],
      hasRest: true,
      restName: 'rest',
      unknown: false,
    })
    expect(parseParams(evalFn('(...args) => 0'))).toEqual({
      names: [],
      defaults: [],
      hasRest: true,
      restName: 'args',
      unknown: false,
    })
    expect(parseParams(evalFn('(a, ...[b, c]) => 0'))).toEqual({
      names: ['a'],
      defaults: [undefined],
      hasRest: true,
      unknown: false,
    })
  })
})

describe('parseParams: defaults', () => {
  test('literal defaults are parsed to their values', () => {
    const fn = evalFn(
      `function f(a = 1, b = -2.5, c = 'it\\'s', d = "x,y", e = \`tpl\`, f = true, g = false, h = null, i = undefined, j = 0x10, k = 1_000, l = 10n, m = -0)` +
        ' {}',
    )
    const p = parseParams(fn)
    expect(p.names).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm'])
    expect(p.defaults).toEqual([
      lit(1),
      lit(-2.5),
      lit("it's"),
      lit('x,y'),
      lit('tpl'),
      lit(true),
      lit(false),
      lit(null),
      lit(undefined),
      lit(16),
      lit(1000),
      lit(10n),
      lit(-0),
    ])
  })

  test('non-literal defaults are kept as expressions', () => {
    const p = parseParams(
      evalFn('(a = Date.now(), b = { x: 1 }, c = [1, 2], d = `t${a}`, e = a + 1, f = (1, 2), g = -a) => 0'),
    )
    expect(p.names).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g'])
    expect(p.defaults).toEqual([
      expr('Date.now()'),
      expr('{ x: 1 }'),
      expr('[1, 2]'),
      expr('`t${a}`'),
      expr('a + 1'),
      expr('(1, 2)'),
      expr('-a'),
    ])
  })

  test('commas, parens and brackets inside strings, templates, regexes and comments do not split', () => {
    const p = parseParams(
      evalFn(
        'function (a = "),(", /* b, c) */ b = `,${(() => ")")()},`, c = /[),]/g, // d, e)\n d = { e: [1, (2)] }, f = x => x, g = a == b) {}',
      ),
    )
    expect(p.names).toEqual(['a', 'b', 'c', 'd', 'f', 'g'])
    expect(p.defaults).toEqual([
      lit('),('),
      expr('`,${(() => ")")()},`'),
      expr('/[),]/g'),
      expr('{ e: [1, (2)] }'),
      expr('x => x'),
      expr('a == b'),
    ])
  })

  test('a comment next to a parameter is ignored', () => {
    expect(parseParams(evalFn('(id /* user id */, n = 5 /* five */) => 0'))).toMatchObject({
      names: ['id', 'n'],
      defaults: [undefined, lit(5)],
    })
  })

  test('parseDefault', () => {
    expect(parseDefault('"a\\nb\\u0041\\x42\\u{1F600}"')).toEqual(lit('a\nbAB\u{1F600}'))
    expect(parseDefault('`no subst \\${x}`')).toEqual(lit('no subst ${x}'))
    expect(parseDefault('-Infinity')).toEqual(lit(-Infinity))
    expect(parseDefault('NaN')).toEqual(lit(NaN))
    expect(parseDefault('void 0')).toEqual(lit(undefined))
    expect(parseDefault('1e3')).toEqual(lit(1000))
    expect(parseDefault('"a" + "b"')).toEqual(expr('"a" + "b"'))
    expect(parseDefault("'a' || 'b'")).toEqual(expr("'a' || 'b'"))
    expect(parseDefault('undefinedValue')).toEqual(expr('undefinedValue'))
    expect(parseDefault('010')).toEqual(expr('010'))
  })
})
