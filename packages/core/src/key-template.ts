/**
 * Key templates, compiled once at decoration time into closures that build a cache key from a
 * call's arguments. The hot path does no parsing, no regex and (for single-argument keys) no
 * array allocation.
 *
 * Forms of `key`:
 * - `undefined`: the default key `name(<encodeArgs(args)>)`, e.g. `getUser(42)`,
 *   `search("bob",{"limit":10})`, `loadFlags()`. Every argument counts; trailing `undefined`s do not.
 * - a function `(...args) => string`: called with the arguments; a number result is stringified,
 *   anything else is a `TypeError` naming option "key".
 * - a string template: literal text plus placeholders, `{{` and `}}` for literal braces.
 *   `{}` (auto-numbered 0, 1, …) and `{0}` take an argument by position; `{id}` takes the
 *   parameter named `id` (its literal default when the argument is missing); when `id` is not a
 *   parameter and the function has at most one positional parameter (or its parameters are
 *   unknown), `{id}` is the `id` property of the first argument; `{user.id}`, `{0.id}` follow
 *   properties. A template without placeholders is a static key.
 *
 * Placeholder values: strings as they are; numbers, booleans and bigints via `String`; `null` as
 * `null`; a `Date` as its ISO string; other objects via the canonical encoding (`encodeArg`).
 * `undefined` throws `KeyTemplateError` at call time; whatever can be known wrong at decoration
 * time (unbalanced braces, unknown names, out-of-range indexes) throws from `compileKey`.
 */
import { encodeArg, encodeArgAt } from './canonical-key.js'
import { KeyTemplateError } from './errors.js'
import { parseParams, type DefaultValue, type ParsedParams } from './function-params.js'

/** Builds the cache key of a call. */
export interface KeyBuilder {
  /** The key for a call with these arguments. */
  (args: ArrayLike<unknown>): string
  /**
   * Set only when the key depends on nothing but the first argument (or on no argument): then
   * `one(args[0])` equals `builder(args)` for **every** call, whatever its number of arguments.
   */
  one?: (a: unknown) => string
  /**
   * The key for a call with exactly one argument `a` (`builder([a])` without the array). Set
   * whenever the key uses arguments, including the default key, which depends on all of them.
   */
  unary?: (a: unknown) => string
  /** `false` for a static key: the key is the same for every call (see `staticKey`). */
  usesArgs: boolean
  /** The key itself, when `usesArgs` is `false`. */
  staticKey?: string
}

/** The key option as `cache()` takes it. */
export type KeyOption = string | ((...args: any[]) => string) | undefined

/**
 * Compile a `key` option for function `fn` (named `name` in keys and messages) into a
 * {@link KeyBuilder}. Throws `KeyTemplateError` for a template that can never work with `fn`
 * (unbalanced braces, a `{name}` that `fn` cannot provide, an index past its parameters), and
 * `TypeError` for a `key` that is neither a string nor a function.
 *
 * @example
 * const kb = compileKey('user:{id}', async function getUser(id: number) {}, 'getUser')
 * kb([42])          // 'user:42'
 * kb.one!(42)       // 'user:42', no arguments array
 * compileKey(undefined, (a: string, b?: object) => 0, 'search')(['bob', { limit: 10 }])
 * // 'search("bob",{"limit":10})'
 */
export function compileKey(key: KeyOption, fn: Function, name: string): KeyBuilder {
  const fnName = name || fn.name || 'anonymous function'
  if (key === undefined) return defaultKey(fn, name, fnName)
  if (typeof key === 'function') return functionKey(key, fnName)
  if (typeof key !== 'string') {
    throw new TypeError(`option "key" of ${fnName} must be a string template or a function (got ${typeof key})`)
  }
  if (key === '') throw new TypeError(`option "key" of ${fnName} must not be an empty string`)
  return templateKey(key, fn, fnName)
}

// ---------------------------------------------------------------------------------------------
// Default key and key functions

function defaultKey(fn: Function, name: string, fnName: string): KeyBuilder {
  const labels = { fnName, params: parseParams(fn).names }
  const open = name + '('
  const empty = open + ')'
  const builder = ((args: ArrayLike<unknown>) => {
    let n = args.length
    while (n > 0 && args[n - 1] === undefined) n--
    if (n === 0) return empty
    let out = open + encodeArgAt(args[0], 0, labels)
    for (let i = 1; i < n; i++) out += ',' + encodeArgAt(args[i], i, labels)
    return out + ')'
  }) as KeyBuilder
  builder.usesArgs = true
  builder.unary = (a) => (a === undefined ? empty : open + encodeArgAt(a, 0, labels) + ')')
  return builder
}

function functionKey(keyFn: (...args: any[]) => unknown, fnName: string): KeyBuilder {
  const check = (k: unknown): string => {
    if (typeof k === 'string') return k
    if (typeof k === 'number') return String(k)
    throw new TypeError(`option "key" of ${fnName} must return a string (got ${describe(k)})`)
  }
  const builder = ((args: ArrayLike<unknown>) => check(keyFn.apply(undefined, args as unknown[]))) as KeyBuilder
  builder.usesArgs = true
  builder.unary = (a) => check(keyFn(a))
  return builder
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`
  if (v === null) return 'null'
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object'
  if (typeof v === 'function') return 'a function'
  if (typeof v === 'bigint') return `${v}n`
  return typeof v === 'symbol' ? 'a symbol' : String(v)
}

// ---------------------------------------------------------------------------------------------
// Templates

type Getter = (args: ArrayLike<unknown>) => unknown
type Getter0 = (a0: unknown) => unknown

interface Placeholder {
  /** As written, braces included: `{user.id}`. */
  text: string
  get: Getter
  /** Set when the value depends only on the first argument. */
  get0?: Getter0
  /** For error messages: the value before `path` is followed, how to name it, and the path. */
  base: Getter
  baseLabel: string
  pathRoot: string
  path: string[]
}

interface Context {
  template: string
  fnName: string
  params: ParsedParams
}

const SEGMENT_RE = /^(?:\d+|[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*)$/u

function templateError(ctx: Context, what: string): KeyTemplateError {
  return new KeyTemplateError(`key template '${ctx.template}' for ${ctx.fnName}: ${what}`)
}

function signature(ctx: Context): string {
  const p = ctx.params
  if (p.unknown) return `${ctx.fnName}(…)`
  const list: string[] = p.names.map((n) => n ?? '<pattern>')
  if (p.hasRest) list.push('...' + (p.restName ?? '<pattern>'))
  return `${ctx.fnName}(${list.join(', ')})`
}

function templateKey(template: string, fn: Function, fnName: string): KeyBuilder {
  const ctx: Context = { template, fnName, params: parseParams(fn) }
  const literals: string[] = []
  const placeholders: Placeholder[] = []
  let lit = ''
  let auto = 0
  for (let i = 0; i < template.length; i++) {
    const c = template[i]
    if (c === '{') {
      if (template[i + 1] === '{') {
        lit += '{'
        i++
        continue
      }
      const close = template.indexOf('}', i + 1)
      const reopen = template.indexOf('{', i + 1)
      if (close === -1 || (reopen !== -1 && reopen < close)) {
        const frag = template.slice(i, reopen !== -1 && (close === -1 || reopen < close) ? reopen : template.length)
        throw templateError(ctx, `placeholder ${frag} has no closing '}' (write '{{' for a literal '{')`)
      }
      const body = template.slice(i + 1, close)
      literals.push(lit)
      lit = ''
      placeholders.push(compilePlaceholder(body === '' ? String(auto++) : body, template.slice(i, close + 1), ctx))
      i = close
    } else if (c === '}') {
      if (template[i + 1] === '}') {
        lit += '}'
        i++
        continue
      }
      throw templateError(ctx, `unmatched '}' at position ${i} (write '}}' for a literal '}')`)
    } else lit += c
  }
  literals.push(lit)
  return assemble(literals, placeholders, ctx)
}

function compilePlaceholder(body: string, text: string, ctx: Context): Placeholder {
  const segs = body.split('.')
  if (!segs.every((s) => SEGMENT_RE.test(s))) {
    throw templateError(
      ctx,
      `placeholder ${text} is not valid: use {}, {0}, {name} or {name.path} (write '{{' and '}}' for literal braces)`,
    )
  }
  const p = ctx.params
  const head = segs[0]
  const path = segs.slice(1)
  const positional = p.names.length
  // Whether `fn` may be called with one object whose properties the template names.
  const singleObject = p.unknown || positional <= 1

  if (/^\d/.test(head)) {
    const index = Number(head)
    if (!p.unknown && !p.hasRest && index >= positional) {
      throw templateError(
        ctx,
        `placeholder ${text} refers to argument ${index}, but ${signature(ctx)} takes ${positional} parameter${positional === 1 ? '' : 's'}`,
      )
    }
    return withPath(argGetter(index, index < positional ? p.defaults[index] : undefined, text, ctx), path, text)
  }

  const index = p.names.indexOf(head)
  if (index !== -1) return withPath(argGetter(index, p.defaults[index], text, ctx), path, text)

  if (p.hasRest && p.restName === head) {
    const from = positional
    const get: Getter = (args) => Array.prototype.slice.call(args, from)
    return withPath({ get, baseLabel: `rest parameter ${head}`, pathRoot: head }, path, text)
  }

  if (!singleObject) {
    const hint = p.names.some((n) => n === undefined) ? ` (for a property of a destructured argument, write {0.${head}})` : ''
    throw templateError(ctx, `placeholder ${text} names no parameter of ${signature(ctx)}${hint}`)
  }
  if (!p.unknown && positional === 0 && !p.hasRest) {
    throw templateError(ctx, `placeholder ${text} cannot be resolved: ${signature(ctx)} takes no parameters`)
  }
  // A property of the single object argument (the function's first parameter).
  return withPath(argGetter(0, p.defaults[0], text, ctx), segs, text)
}

type Base = Pick<Placeholder, 'get' | 'get0' | 'baseLabel' | 'pathRoot'>

function argGetter(index: number, def: DefaultValue | undefined, text: string, ctx: Context): Base {
  const param = ctx.params.names[index]
  const baseLabel = param === undefined ? `argument ${index}` : `argument ${index} (${param})`
  const pathRoot = param ?? `argument ${index}`
  if (def === undefined) {
    if (index === 0) return { baseLabel, pathRoot, get: (args) => args[0], get0: (a) => a }
    return { baseLabel, pathRoot, get: (args) => args[index] }
  }
  if (def.kind === 'literal') {
    const dv = def.value
    const get0: Getter0 = (a) => (a === undefined ? dv : a)
    if (index === 0) return { baseLabel, pathRoot, get: (args) => get0(args[0]), get0 }
    return { baseLabel, pathRoot, get: (args) => (args[index] === undefined ? dv : args[index]) }
  }
  // JavaScript applies a default for a missing or undefined argument; this one we cannot compute.
  const needDefault = (): never => {
    throw templateError(
      ctx,
      `placeholder ${text} needs the default value of parameter ${param ?? index} (= ${def.text}), ` +
        'which cannot be evaluated outside the function; pass the argument or use a key function',
    )
  }
  const get0: Getter0 = (a) => (a === undefined ? needDefault() : a)
  if (index === 0) return { baseLabel, pathRoot, get: (args) => get0(args[0]), get0 }
  return { baseLabel, pathRoot, get: (args) => (args[index] === undefined ? needDefault() : args[index]) }
}

type Obj = Record<string, unknown>

function withPath(base: Base, path: string[], text: string): Placeholder {
  const { get, get0, baseLabel, pathRoot } = base
  const common = { text, base: get, baseLabel, pathRoot, path }
  if (path.length === 0) return { ...common, get, get0 }
  if (path.length === 1) {
    const k = path[0]
    return {
      ...common,
      get: (args) => {
        const o = get(args)
        return o == null ? undefined : (o as Obj)[k]
      },
      get0:
        get0 &&
        ((a) => {
          const o = get0(a)
          return o == null ? undefined : (o as Obj)[k]
        }),
    }
  }
  // A null or undefined on the way makes the whole path undefined (an error), not 'null'.
  const read = (o: unknown): unknown => {
    for (let i = 0; i < path.length; i++) {
      if (o == null) return undefined
      o = (o as Obj)[path[i]]
    }
    return o
  }
  return { ...common, get: (args) => read(get(args)), get0: get0 && ((a) => read(get0(a))) }
}

/**
 * The text of a placeholder value that is not a string. `args` is the call's arguments, or
 * `undefined` for a `one(a0)` call (then the arguments are `[a0]`; only the error path needs them).
 */
function formatValue(v: unknown, ph: Placeholder, ctx: Context, args: ArrayLike<unknown> | undefined, a0?: unknown): string {
  switch (typeof v) {
    case 'number':
      return '' + v
    case 'string':
      return v
    case 'boolean':
    case 'bigint':
      return String(v)
    case 'undefined':
      throw templateError(ctx, `placeholder ${ph.text} resolved to undefined (${whyUndefined(ph, args ?? [a0])})`)
  }
  if (v === null) return 'null'
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()
  return encodeArg(v, `placeholder ${ph.text}`, ctx.fnName)
}

/** Which step of a placeholder gave `undefined` (error path only, so it re-walks the arguments). */
function whyUndefined(ph: Placeholder, args: ArrayLike<unknown>): string {
  let o: unknown
  try {
    o = ph.base(args)
  } catch {
    return 'its argument is missing'
  }
  if (o === undefined) return `${ph.baseLabel} is undefined`
  if (o === null) return `${ph.baseLabel} is null`
  let at = ph.pathRoot
  for (const k of ph.path) {
    if (o === null) return `${at} is null`
    at += '.' + k
    o = (o as Obj)[k]
    if (o === undefined) return `${at} is undefined`
  }
  return `${at} is undefined`
}

function assemble(literals: string[], phs: Placeholder[], ctx: Context): KeyBuilder {
  const n = phs.length
  if (n === 0) {
    const key = literals[0]
    const builder = (() => key) as unknown as KeyBuilder
    builder.usesArgs = false
    builder.staticKey = key
    builder.one = () => key
    builder.unary = builder.one
    return builder
  }

  // Values are strings or numbers nearly always: test for those inline and leave the rest to
  // formatValue, which also throws the error messages (and formats numbers the same way).
  let builder: KeyBuilder
  let one: ((a: unknown) => string) | undefined
  const all0 = phs.every((p) => p.get0 !== undefined)

  if (n === 1) {
    const [p0, s0] = literals
    const ph = phs[0]
    const { get, get0 } = ph
    // The common `prefix:{id}` has no suffix: one concatenation, not two.
    if (s0 === '') {
      builder = ((args: ArrayLike<unknown>) => {
        const v = get(args)
        return p0 + (typeof v === 'string' ? v : typeof v === 'number' ? '' + v : formatValue(v, ph, ctx, args))
      }) as KeyBuilder
      if (get0 !== undefined) {
        one = (a) => {
          const v = get0(a)
          return p0 + (typeof v === 'string' ? v : typeof v === 'number' ? '' + v : formatValue(v, ph, ctx, undefined, a))
        }
      }
    } else {
      builder = ((args: ArrayLike<unknown>) => {
        const v = get(args)
        return p0 + (typeof v === 'string' ? v : typeof v === 'number' ? '' + v : formatValue(v, ph, ctx, args)) + s0
      }) as KeyBuilder
      if (get0 !== undefined) {
        one = (a) => {
          const v = get0(a)
          return p0 + (typeof v === 'string' ? v : typeof v === 'number' ? '' + v : formatValue(v, ph, ctx, undefined, a)) + s0
        }
      }
    }
  } else if (n === 2) {
    const [p0, p1, s] = literals
    const [ph0, ph1] = phs
    const g0 = ph0.get
    const g1 = ph1.get
    builder = ((args: ArrayLike<unknown>) => {
      const v0 = g0(args)
      const v1 = g1(args)
      return (
        p0 +
        (typeof v0 === 'string' ? v0 : formatValue(v0, ph0, ctx, args)) +
        p1 +
        (typeof v1 === 'string' ? v1 : formatValue(v1, ph1, ctx, args)) +
        s
      )
    }) as KeyBuilder
    if (all0) {
      const h0 = ph0.get0!
      const h1 = ph1.get0!
      one = (a) => {
        const v0 = h0(a)
        const v1 = h1(a)
        return (
          p0 +
          (typeof v0 === 'string' ? v0 : formatValue(v0, ph0, ctx, undefined, a)) +
          p1 +
          (typeof v1 === 'string' ? v1 : formatValue(v1, ph1, ctx, undefined, a)) +
          s
        )
      }
    }
  } else {
    builder = ((args: ArrayLike<unknown>) => {
      let out = literals[0]
      for (let i = 0; i < n; i++) {
        const ph = phs[i]
        const v = ph.get(args)
        out += (typeof v === 'string' ? v : formatValue(v, ph, ctx, args)) + literals[i + 1]
      }
      return out
    }) as KeyBuilder
    if (all0) {
      one = (a) => {
        let out = literals[0]
        for (let i = 0; i < n; i++) {
          const ph = phs[i]
          const v = ph.get0!(a)
          out += (typeof v === 'string' ? v : formatValue(v, ph, ctx, undefined, a)) + literals[i + 1]
        }
        return out
      }
    }
  }
  builder.usesArgs = true
  if (one !== undefined) builder.one = one
  builder.unary = one ?? ((a) => builder([a]))
  return builder
}
