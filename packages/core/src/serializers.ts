import { isAnyArrayBuffer, isDate, isMap, isRegExp, isSet } from 'node:util/types'
import { deserialize as v8Deserialize, serialize as v8Serialize } from 'node:v8'
import { SerializationError } from './errors.js'
import type { Serializer } from './types.js'

/** The names accepted wherever a serializer option is taken. */
export type SerializerAlias = 'json' | 'v8'

const SERIALIZER_ALIASES: readonly SerializerAlias[] = ['json', 'v8']

const utf8Encoder = new TextEncoder()
// fatal: invalid UTF-8 is corruption and must be reported, not silently turned into U+FFFD.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

/** Why a value was refused, with the path built on the way back up (cheap on the success path). */
interface Refusal {
  what: string
  hint: string
  /** Property names / indices, innermost first. */
  reversedPath: Array<string | number>
}

const HINT_OTHER_SERIALIZER = 'use serializers.v8 or a serializer that supports it (e.g. @acache/msgpack)'

/**
 * Walk `value` and report the first thing JSON cannot carry faithfully. A pre-walk followed by a
 * plain `JSON.stringify` measured ~2× faster than a `JSON.stringify` replacer (which also sees
 * values after `toJSON`, i.e. a Date already turned into a string).
 *
 * `ancestors` is the current path of objects: a repeat means a cycle. Shared (non-cyclic)
 * references are fine; JSON just writes them twice.
 */
function findUnrepresentable(value: unknown, ancestors: object[]): Refusal | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      if (Number.isFinite(value)) return undefined
      return refuse(String(value), 'JSON turns it into null; use null or a string instead')
    case 'object': {
      if (value === null) return undefined
      if (ancestors.includes(value)) {
        return refuse('a circular reference', 'JSON cannot represent cycles; use serializers.v8')
      }
      if (Array.isArray(value)) {
        const arrayProto: unknown = Object.getPrototypeOf(value)
        if (arrayProto !== Array.prototype && !isRealmIntrinsic(arrayProto, 'Array')) return refuseObject(value)
        ancestors.push(value)
        for (let i = 0; i < value.length; i++) {
          const element: unknown = value[i]
          // Holes in sparse arrays read as undefined too; JSON would write null for both.
          const refusal =
            element === undefined
              ? refuse('undefined', 'JSON turns an undefined array element into null; use null instead')
              : findUnrepresentable(element, ancestors)
          if (refusal !== undefined) {
            refusal.reversedPath.push(i)
            return refusal
          }
        }
        ancestors.pop()
        return undefined
      }
      const proto: unknown = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null && !isRealmIntrinsic(proto, 'Object')) return refuseObject(value)
      ancestors.push(value)
      const record = value as Record<string, unknown>
      const keys = Object.keys(record)
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]
        const property = record[key]
        const refusal =
          property === undefined
            ? refuse('undefined', 'JSON drops properties whose value is undefined; omit the property or use null')
            : findUnrepresentable(property, ancestors)
        if (refusal !== undefined) {
          refusal.reversedPath.push(key)
          return refusal
        }
      }
      ancestors.pop()
      return undefined
    }
    case 'undefined':
      return refuse('undefined', 'a cached value cannot be undefined; use null')
    case 'bigint':
      return refuse('a BigInt', `convert it to a string first, or ${HINT_OTHER_SERIALIZER}`)
    case 'function':
      return refuse('a function', 'functions cannot be cached as data')
    case 'symbol':
      return refuse('a symbol', 'symbols cannot be cached as data')
    default:
      return refuse(`a ${typeof value}`, HINT_OTHER_SERIALIZER)
  }
}

/**
 * Whether `proto` is `Object.prototype` / `Array.prototype` of another realm (a `vm` context, a
 * worker's structured clone): such objects are plain data. Only reached off the fast path.
 */
function isRealmIntrinsic(proto: unknown, constructorName: 'Object' | 'Array'): boolean {
  if (typeof proto !== 'object' || proto === null) return false
  const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as { name?: unknown } | undefined
  if (typeof ctor !== 'function' || ctor.name !== constructorName) return false
  const parent: unknown = Object.getPrototypeOf(proto)
  return constructorName === 'Object' ? parent === null : isRealmIntrinsic(parent, 'Object')
}

function refuse(what: string, hint: string): Refusal {
  return { what, hint, reversedPath: [] }
}

/** Objects that are neither plain objects nor plain arrays: JSON would flatten them (or drop them). */
function refuseObject(value: object): Refusal {
  // node:util/types checks work across realms, unlike instanceof.
  if (isMap(value)) return refuse('a Map', `JSON would write {}; ${HINT_OTHER_SERIALIZER}`)
  if (isSet(value)) return refuse('a Set', `JSON would write {}; ${HINT_OTHER_SERIALIZER}`)
  if (isDate(value)) {
    return refuse('a Date', `JSON would silently turn it into a string; store date.toISOString() or date.getTime(), or ${HINT_OTHER_SERIALIZER}`)
  }
  if (isRegExp(value)) return refuse('a RegExp', 'JSON would write {}; store its source string instead')
  if (ArrayBuffer.isView(value) || isAnyArrayBuffer(value)) {
    const kind = Buffer.isBuffer(value) ? 'Buffer' : Object.prototype.toString.call(value).slice(8, -1)
    return refuse(`${/^[AEIO]/.test(kind) ? 'an' : 'a'} ${kind}`, `JSON would flatten it into an object; ${HINT_OTHER_SERIALIZER}`)
  }
  const className = (value.constructor as { name?: unknown } | undefined)?.name
  const what = typeof className === 'string' && className !== '' ? `an instance of ${className}` : 'an object with a custom prototype'
  // A toJSON() is still refused: the value would come back as a plain object, not the class.
  return refuse(what, `it would come back as a plain object; convert it to a plain object first, or ${HINT_OTHER_SERIALIZER}`)
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** `$`, `$.user.tags`, `$.items[3]`, `$["a key"]` */
function formatPath(reversedPath: Array<string | number>): string {
  let path = '$'
  for (let i = reversedPath.length - 1; i >= 0; i--) {
    const segment = reversedPath[i]
    if (typeof segment === 'number') path += `[${segment}]`
    else if (IDENTIFIER.test(segment)) path += `.${segment}`
    else path += `[${JSON.stringify(segment)}]`
  }
  return path
}

/**
 * The default serializer: UTF-8 JSON, readable by any language (and by the Python library).
 *
 * It refuses, with a `SerializationError` naming the value and its path, anything that would not
 * survive the round trip unchanged: `undefined` (top level, property value or array element,
 * including holes), NaN and ±Infinity, BigInt, functions, symbols, cycles, `Map`, `Set`, `Date`,
 * `RegExp`, typed arrays / `Buffer` / `ArrayBuffer`, and instances of any class (even with a
 * `toJSON()`), boxed primitives and array subclasses included. Plain objects (also
 * `Object.create(null)`), arrays, strings, finite numbers, booleans and `null` pass.
 * Symbol-keyed and non-enumerable properties are ignored, as by `JSON.stringify`.
 *
 * `loads` of bytes that are not valid UTF-8 JSON throws `SerializationError`.
 *
 * @example
 * ```ts
 * serializers.json.loads(serializers.json.dumps({ a: 1 })) // { a: 1 }
 * serializers.json.dumps({ user: { tags: new Map() } })
 * // SerializationError: serializers.json cannot represent a Map at $.user.tags; JSON would write {}; use serializers.v8 …
 * ```
 */
const json: Serializer = Object.freeze({
  dumps(value: unknown): Uint8Array {
    let refusal: Refusal | undefined
    try {
      refusal = findUnrepresentable(value, [])
    } catch (error) {
      // Only a RangeError (nesting deep enough to overflow the stack) or a throwing getter get here.
      throw new SerializationError(`serializers.json cannot serialize this value: ${errorMessage(error)}`, { cause: error })
    }
    if (refusal !== undefined) {
      throw new SerializationError(
        `serializers.json cannot represent ${refusal.what} at ${formatPath(refusal.reversedPath)}; ${refusal.hint}`,
      )
    }
    let text: string
    try {
      text = JSON.stringify(value)
    } catch (error) {
      throw new SerializationError(`serializers.json cannot serialize this value: ${errorMessage(error)}`, { cause: error })
    }
    return utf8Encoder.encode(text)
  },
  loads(bytes: Uint8Array): unknown {
    if (!(bytes instanceof Uint8Array)) {
      throw new SerializationError(`serializers.json.loads expects a Uint8Array, got ${typeof bytes}`)
    }
    let text: string
    try {
      text = utf8Decoder.decode(bytes)
    } catch (error) {
      throw new SerializationError('serializers.json cannot decode the bytes: not valid UTF-8', { cause: error })
    }
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      throw new SerializationError(`serializers.json cannot decode the bytes: ${errorMessage(error)}`, { cause: error })
    }
  },
})

/**
 * Node's structured-clone format (`node:v8`): carries `Map`, `Set`, `Date`, `RegExp`, BigInt,
 * typed arrays, `undefined`, NaN, cycles and shared references.
 *
 * **For trusted stores only**: deserializing attacker-controlled bytes with `node:v8` is not safe,
 * and only Node can read the format (a newer Node reads an older one, not always the reverse).
 * Class instances come back as plain objects (prototypes are not stored); functions and symbols
 * are refused with a `SerializationError`.
 *
 * @example
 * ```ts
 * const bytes = serializers.v8.dumps(new Map([['a', 1n]]))
 * serializers.v8.loads(bytes) // Map(1) { 'a' => 1n }
 * ```
 */
const v8: Serializer = Object.freeze({
  dumps(value: unknown): Uint8Array {
    let buffer: Buffer
    try {
      buffer = v8Serialize(value)
    } catch (error) {
      throw new SerializationError(`serializers.v8 cannot serialize this value: ${errorMessage(error)}`, { cause: error })
    }
    // A plain Uint8Array view (no copy): what the Serializer contract promises.
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  },
  loads(bytes: Uint8Array): unknown {
    if (!(bytes instanceof Uint8Array)) {
      throw new SerializationError(`serializers.v8.loads expects a Uint8Array, got ${typeof bytes}`)
    }
    try {
      return v8Deserialize(bytes) as unknown
    } catch (error) {
      throw new SerializationError(`serializers.v8 cannot decode the bytes: ${errorMessage(error)}`, { cause: error })
    }
  },
})

/**
 * The built-in serializers: `json` (the default, portable) and `v8` (structured clone, trusted
 * stores only). The aliases `'json'` and `'v8'` name them wherever a `serializer` option is taken.
 *
 * @example
 * ```ts
 * new RedisCache(client, { serializer: serializers.v8 }) // same as serializer: 'v8'
 * ```
 */
export const serializers: Readonly<{ json: Serializer; v8: Serializer }> = Object.freeze({ json, v8 })

/**
 * Turn a `serializer` option into a {@link Serializer}: `undefined` → `serializers.json`,
 * `'json'` / `'v8'` → the built-ins, an object with `dumps` and `loads` functions → itself.
 * Anything else throws a `TypeError` naming the option and the valid aliases.
 *
 * @param optionName - the option's name, for the error message (e.g. `'RedisCache serializer'`).
 * @example
 * ```ts
 * resolveSerializer('v8') === serializers.v8 // true
 * resolveSerializer(undefined) === serializers.json // true
 * resolveSerializer('yaml') // TypeError: Invalid serializer: unknown alias "yaml"; expected 'json', 'v8' or …
 * ```
 */
export function resolveSerializer(
  serializer: SerializerAlias | Serializer | undefined,
  optionName = 'serializer',
): Serializer {
  if (serializer === undefined) return json
  if (serializer === 'json') return json
  if (serializer === 'v8') return v8
  const expected = `expected ${SERIALIZER_ALIASES.map((alias) => `'${alias}'`).join(', ')} or an object with dumps() and loads() functions`
  if (typeof serializer === 'string') {
    throw new TypeError(`Invalid ${optionName}: unknown alias ${JSON.stringify(serializer)}; ${expected}`)
  }
  if (
    serializer !== null &&
    (typeof serializer === 'object' || typeof serializer === 'function') &&
    typeof (serializer as Partial<Serializer>).dumps === 'function' &&
    typeof (serializer as Partial<Serializer>).loads === 'function'
  ) {
    return serializer
  }
  const got = serializer === null ? 'null' : typeof serializer === 'object' ? 'an object without dumps()/loads() functions' : `a ${typeof serializer}`
  throw new TypeError(`Invalid ${optionName}: got ${got}; ${expected}`)
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
