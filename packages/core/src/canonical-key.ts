/**
 * Canonical argument encoding for cache keys: deterministic (the same arguments always give the
 * same text, whatever the order of object keys) and injective as far as is reasonable (different
 * arguments give different text). It runs on every cache call, so strings and numbers return
 * before any allocation.
 *
 * Format, by value:
 * - string `"abc"` (JSON-quoted) · number `42`, `-1.5`, `NaN`, `Infinity` (`-0` is `0`) ·
 *   boolean `true` · `null` · `undefined` · bigint `1n`
 * - `Date` its ISO string, quoted: `"2024-01-01T00:00:00.000Z"` (an invalid date is `"Invalid Date"`)
 * - array `[1,"a"]` (holes are `undefined`) · plain object `{"a":1,"b":2}` with keys sorted and
 *   `undefined`-valued properties left out (as destructuring treats them)
 * - `Map{"k":1,2:"v"}` and `Set[1,2]` in insertion order
 * - typed arrays, `Buffer`, `DataView`, `ArrayBuffer`: `Uint8Array("AQID")` (type + base64 of the bytes)
 * - `RegExp("/a/g")`, boxed primitives `String("a")`, errors `TypeError("message")` (plus own
 *   enumerable properties such as `{"code":"E1"}`)
 * - an instance with `toJSON()` (`URL`, …): `URL("https://x/")`, the class name and its encoded `toJSON()`
 * - other class instances: `Point{"x":1,"y":2}`, the class name and sorted own enumerable properties
 *   (`#private` fields and accessors are invisible; give such classes a `toJSON`)
 *
 * Functions, symbols, cycles, promises and weak collections cannot be encoded and throw
 * `SerializationError` naming the argument and the path inside it. Only own enumerable
 * string-keyed properties are read; symbol keys are ignored.
 */
import { SerializationError } from './errors.js'

/** Names used in error messages. */
export interface ArgLabels {
  /** The cached function's name: `cannot build a cache key for <fnName>: …`. */
  fnName?: string
  /** Parameter names by position (as `parseParams(fn).names`): `argument 1 (opts.callback)`. */
  params?: readonly (string | undefined)[]
}

// Where the walk is inside an argument, for error messages only.
type PathSegment = string | number | { mapKey: string } | { mapKeyAt: number } | { setAt: number }

interface Walk {
  ancestors: object[]
  path: PathSegment[]
}

class EncodeFailure {
  constructor(
    readonly reason: string,
    readonly path: PathSegment[],
  ) {}
}

/**
 * Encode one value canonically (see the module notes for the format). `argLabel` names the
 * value in error messages (`cannot build a cache key for getUser: opts.callback is a function`).
 *
 * @example
 * encodeArg({ b: 2, a: [1, 'x'] }, 'opts')   // '{"a":[1,"x"],"b":2}'
 * encodeArg(new Map([['k', 1n]]), 'm')       // 'Map{"k":1n}'
 */
export function encodeArg(value: unknown, argLabel = 'value', fnName?: string): string {
  if (typeof value === 'string') return quote(value)
  if (typeof value === 'number') return '' + value
  return encodeSlow(value, fnName, argLabel, 0, undefined)
}

/**
 * Encode argument `index` of a call; the same text as `encodeArg`, with the error message naming
 * the argument as `argument <index> (<param name><path>)`. Lets a single-argument key be built
 * without an arguments array.
 *
 * @example
 * encodeArgAt(7, 0)   // '7'
 */
export function encodeArgAt(value: unknown, index: number, labels?: ArgLabels): string {
  if (typeof value === 'string') return quote(value)
  if (typeof value === 'number') return '' + value
  return encodeSlow(value, labels?.fnName, undefined, index, labels?.params)
}

/**
 * Encode a call's arguments: each argument encoded as by {@link encodeArg}, joined with `,`.
 * Trailing `undefined` arguments are dropped first, so `f(1)` and `f(1, undefined)` give the same
 * text, and `f()` gives `''`. Argument indexes in error messages start at 0, like `{0}` in key
 * templates.
 *
 * @example
 * encodeArgs(['bob', { active: true }, undefined])  // '"bob",{"active":true}'
 * encodeArgs([() => 1], { fnName: 'getUser', params: ['cb'] })
 * // SerializationError: cannot build a cache key for getUser: argument 0 (cb) is a function
 */
export function encodeArgs(args: ArrayLike<unknown>, labels?: ArgLabels): string {
  let n = args.length
  while (n > 0 && args[n - 1] === undefined) n--
  if (n === 0) return ''
  let out = encodeArgAt(args[0], 0, labels)
  for (let i = 1; i < n; i++) out += ',' + encodeArgAt(args[i], i, labels)
  return out
}

// Characters JSON.stringify would escape (surrogates: it escapes lone ones). Testing for them and
// concatenating is 2-4x faster than JSON.stringify for the common plain string.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/** JSON-quote a string. */
function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"'
}

function argumentLabel(index: number, param: string | undefined, path: PathSegment[]): string {
  const where = formatPath(path)
  if (param !== undefined) return `argument ${index} (${param}${where})`
  return where === '' ? `argument ${index}` : `argument ${index} (at ${where})`
}

// Labels are passed as plain arguments (no closure) because this runs for every object argument.
function encodeSlow(
  value: unknown,
  fnName: string | undefined,
  argLabel: string | undefined,
  index: number,
  params: readonly (string | undefined)[] | undefined,
): string {
  const walk: Walk = { ancestors: [], path: [] }
  try {
    return enc(value, walk)
  } catch (e) {
    if (!(e instanceof EncodeFailure)) throw e
    const prefix = fnName ? `cannot build a cache key for ${fnName}: ` : 'cannot build a cache key: '
    const label =
      argLabel !== undefined ? argLabel + formatPath(e.path) : argumentLabel(index, params?.[index], e.path)
    throw new SerializationError(prefix + label + ' ' + e.reason)
  }
}

const IDENT_RE = /^[A-Za-z_$][\w$]*$/

function formatPath(path: PathSegment[]): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (typeof seg === 'string') out += IDENT_RE.test(seg) ? '.' + seg : `[${JSON.stringify(seg)}]`
    else if ('mapKey' in seg) out += `.get(${seg.mapKey})`
    else if ('mapKeyAt' in seg) out += `.keys()[${seg.mapKeyAt}]`
    else out += `.values()[${seg.setAt}]`
  }
  return out
}

function fail(walk: Walk, reason: string): EncodeFailure {
  return new EncodeFailure(reason, walk.path.slice())
}

function enc(v: unknown, walk: Walk): string {
  switch (typeof v) {
    case 'string':
      return quote(v)
    case 'number':
      return '' + v // '' + -0 is '0'
    case 'boolean':
      return v ? 'true' : 'false'
    case 'undefined':
      return 'undefined'
    case 'bigint':
      return v + 'n'
    case 'symbol':
      throw fail(walk, `is a symbol (${String(v)})`)
    case 'function':
      throw fail(walk, v.name ? `is a function (${v.name})` : 'is a function')
  }
  if (v === null) return 'null'
  return encObject(v as object, walk)
}

function className(o: object): string {
  const ctor = (Object.getPrototypeOf(o) as { constructor?: unknown } | null)?.constructor
  const name = typeof ctor === 'function' ? ctor.name : ''
  return name || 'Anonymous'
}

function encObject(o: object, walk: Walk): string {
  if (walk.ancestors.includes(o)) throw fail(walk, 'is a circular reference (the value contains itself)')
  const proto = Object.getPrototypeOf(o)
  // The common shapes first, before the chain of instanceof tests.
  if (proto === Object.prototype || proto === null) {
    walk.ancestors.push(o)
    const out = encProps(o, walk)
    walk.ancestors.pop()
    return out
  }
  if (Array.isArray(o)) {
    walk.ancestors.push(o)
    let out = '['
    for (let i = 0; i < o.length; i++) {
      walk.path.push(i)
      out += (i === 0 ? '' : ',') + enc(o[i], walk)
      walk.path.pop()
    }
    walk.ancestors.pop()
    return out + ']'
  }
  // Leaves next: nothing to recurse into, so no ancestor bookkeeping.
  if (o instanceof Date) {
    const t = o.getTime()
    return Number.isNaN(t) ? '"Invalid Date"' : JSON.stringify(o.toISOString())
  }
  if (ArrayBuffer.isView(o)) {
    return `${className(o)}("${Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('base64')}")`
  }
  if (o instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && o instanceof SharedArrayBuffer)) {
    return `${className(o)}("${Buffer.from(o).toString('base64')}")`
  }
  if (o instanceof RegExp) return `RegExp(${JSON.stringify(String(o))})`
  if (o instanceof Symbol) throw fail(walk, `is a symbol object (${String(o.valueOf())})`)
  if (o instanceof String || o instanceof Number || o instanceof Boolean || o instanceof BigInt) {
    return `${className(o)}(${enc(o.valueOf(), walk)})`
  }
  if (o instanceof Promise) throw fail(walk, 'is a Promise (await it before calling, or use a key option)')
  if (o instanceof WeakMap || o instanceof WeakSet || o instanceof WeakRef) {
    throw fail(walk, `is a ${className(o)}, which cannot be enumerated`)
  }

  walk.ancestors.push(o)
  let out: string
  if (o instanceof Map) {
    out = 'Map{'
    let i = 0
    for (const [k, val] of o) {
      walk.path.push({ mapKeyAt: i })
      const ek = enc(k, walk)
      walk.path.pop()
      walk.path.push({ mapKey: ek })
      out += (i++ === 0 ? '' : ',') + ek + ':' + enc(val, walk)
      walk.path.pop()
    }
    out += '}'
  } else if (o instanceof Set) {
    out = 'Set['
    let i = 0
    for (const val of o) {
      walk.path.push({ setAt: i })
      out += (i++ === 0 ? '' : ',') + enc(val, walk)
      walk.path.pop()
    }
    out += ']'
  } else if (o instanceof Error) {
    // `message` is not enumerable; without it every error of a class would share a key.
    const props = encProps(o, walk)
    out = `${className(o)}(${JSON.stringify(o.message)})` + (props === '{}' ? '' : props)
  } else if (typeof (o as { toJSON?: unknown }).toJSON === 'function') {
    // toJSON is how a class says what it means as data (URL, Decimal libraries, …).
    out = `${className(o)}(${enc((o as { toJSON(key: string): unknown }).toJSON(''), walk)})`
  } else {
    out = className(o) + encProps(o, walk)
  }
  walk.ancestors.pop()
  return out
}

/**
 * Sort keys by UTF-16 code units (what `Array.prototype.sort` does by default). Objects used as
 * arguments have few keys, and insertion sort on them is several times faster than `sort()`.
 */
function sortKeys(keys: string[]): string[] {
  const n = keys.length
  if (n > 24) return keys.sort()
  for (let i = 1; i < n; i++) {
    const k = keys[i]
    let j = i - 1
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j]
      j--
    }
    keys[j + 1] = k
  }
  return keys
}

function encProps(o: object, walk: Walk): string {
  const keys = sortKeys(Object.keys(o))
  let out = '{'
  let first = true
  for (const k of keys) {
    const val = (o as Record<string, unknown>)[k]
    if (val === undefined) continue
    walk.path.push(k)
    out += (first ? '' : ',') + quote(k) + ':' + enc(val, walk)
    walk.path.pop()
    first = false
  }
  return out + '}'
}
