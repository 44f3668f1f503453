import { SerializationError, type Serializer } from '@acache/core'
import { addExtension, Packr } from 'msgpackr'

/**
 * The MessagePack extension type that carries a JavaScript `Map` (`'m'`). MessagePack has one
 * map type, which every other library reads as a dictionary/object, so a `Map` needs its own
 * tag to come back as a `Map`. Other msgpackr built-ins use 0x42, 0x62, 0x65, 0x69, 0x70, 0x73,
 * 0x74, 0x78 and 0xff.
 */
export const MAP_EXTENSION_TYPE = 0x6d

/** A `Map` on its way into the packer: only this private class is tagged, so other users of msgpackr are unaffected. */
class MapEntries {
  constructor(
    readonly entries: unknown[],
    readonly packr: Packr,
  ) {}
}

/** The packer decoding right now (decoding is synchronous): an extension's payload is decoded with the same options. */
let decoding: Packr | undefined

let extensionRegistered = false
let fallback: Packr | undefined
const fallbackPackr = () => (fallback ??= new Packr({ useRecords: false, variableMapSize: true, copyBuffers: true }))

/** msgpackr's extension table is module-global: register once, on first use (not at import). */
function registerMapExtension(): void {
  if (extensionRegistered) return
  extensionRegistered = true
  addExtension({
    Class: MapEntries,
    type: MAP_EXTENSION_TYPE,
    // A real extension (ext header + payload bytes, the payload a MessagePack array of [key, value]
    // pairs), so other libraries can skip or decode it.
    pack: (box: MapEntries) => box.packr.pack(box.entries),
    unpack: (payload: Uint8Array) => new Map((decoding ?? fallbackPackr()).unpack(payload) as Array<[unknown, unknown]>),
  })
}

function describe(value: object): string {
  const name = (value as { constructor?: { name?: string } }).constructor?.name
  return name ? `a ${name}` : 'an object without a prototype chain MessagePack can describe'
}

function pathOf(reversed: Array<string | number>): string {
  let path = '$'
  for (let i = reversed.length - 1; i >= 0; i--) {
    const part = reversed[i]
    path += typeof part === 'number' ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`
  }
  return path
}

class Refusal extends Error {
  readonly reversedPath: Array<string | number> = []
}

/**
 * Checks that MessagePack can carry `value` faithfully and swaps each `Map` for its tagged form.
 * Returns `value` itself (no copy) when it holds no `Map`; containers are copied only on the
 * path down to a `Map`.
 */
function prepare(value: unknown, ancestors: object[], packr: Packr): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return value
    case 'object':
      break
    default:
      throw new Refusal(`a ${typeof value}`)
  }
  if (value === null || value instanceof Date || value instanceof Uint8Array) {
    // Buffer is a Uint8Array; both are MessagePack bin. Other typed arrays would come back as bytes.
    if (value instanceof Uint8Array && value.constructor !== Uint8Array && !Buffer.isBuffer(value)) {
      throw new Refusal(describe(value))
    }
    return value
  }
  if (ancestors.includes(value)) throw new Refusal('a circular reference')
  ancestors.push(value)
  let result: unknown = value
  const visit = (child: unknown, at: string | number): unknown => {
    try {
      return prepare(child, ancestors, packr)
    } catch (error) {
      if (error instanceof Refusal) error.reversedPath.push(at)
      throw error
    }
  }
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw new Refusal(describe(value))
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const prepared = visit(value[i], i)
      if (prepared !== value[i]) (copy ??= value.slice())[i] = prepared
    }
    if (copy !== undefined) result = copy
  } else if (value instanceof Map) {
    const entries: unknown[] = []
    let i = 0
    for (const [k, v] of value) entries.push([visit(k, `<key ${i}>`), visit(v, typeof k === 'string' || typeof k === 'number' ? k : `<value ${i}>`)]), i++
    result = new MapEntries(entries, packr)
  } else {
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) throw new Refusal(describe(value))
    const record = value as Record<string, unknown>
    let copy: Record<string, unknown> | undefined
    for (const k of Object.keys(record)) {
      const prepared = visit(record[k], k)
      if (prepared !== record[k]) (copy ??= { ...record })[k] = prepared
    }
    if (copy !== undefined) result = copy
  }
  ancestors.pop()
  return result
}

/** Options of {@link createMsgpackSerializer}. */
export interface MsgpackOptions {
  /**
   * Decode MessagePack integers wider than 53 bits as `bigint` (`'bigint'`, the default, loses
   * nothing) or as the nearest `number` (`'number'`).
   */
  int64As?: 'bigint' | 'number'
}

const MSGPACK_OPTIONS = ['int64As']

/**
 * Builds a MessagePack serializer (on msgpackr) for acache's wire format.
 *
 * Plain values — objects, arrays, strings, numbers, booleans, `null`, `Uint8Array`/`Buffer`
 * (bin), `Date` (the standard timestamp extension −1) and 64-bit integers — are encoded as
 * standard MessagePack that any other MessagePack library reads (objects as maps with the
 * smallest size header, no msgpackr "records"). A `Map` comes back as a `Map` through extension
 * type {@link MAP_EXTENSION_TYPE}; `undefined` uses msgpackr's extension 0 (as notepack does).
 * What MessagePack cannot carry faithfully — functions, symbols, `Set`, class instances, other
 * typed arrays, cycles — is refused with a `SerializationError` naming the path.
 *
 * @example
 * ```ts
 * import { cache } from '@acache/core'
 * import { RedisCache } from '@acache/redis'
 * import { createMsgpackSerializer } from '@acache/msgpack'
 *
 * const store = new RedisCache(redis, { prefix: 'app:', serializer: createMsgpackSerializer({ int64As: 'number' }) })
 * ```
 */
export function createMsgpackSerializer(options: MsgpackOptions = {}): Serializer {
  if (options === null || typeof options !== 'object') throw new TypeError('msgpack: options must be an object')
  for (const k of Object.keys(options)) {
    if (!MSGPACK_OPTIONS.includes(k)) throw new TypeError(`msgpack: unknown option "${k}" (known: ${MSGPACK_OPTIONS.join(', ')})`)
  }
  const { int64As = 'bigint' } = options
  if (int64As !== 'bigint' && int64As !== 'number') {
    throw new TypeError(`msgpack: option "int64As" must be 'bigint' or 'number', got ${JSON.stringify(int64As)}`)
  }
  registerMapExtension()
  const packr = new Packr({
    useRecords: false, // msgpackr's record extension is not standard MessagePack
    variableMapSize: true, // fixmap for small objects: the bytes other libraries write
    copyBuffers: true, // decoded bins must not alias the buffer the store handed us
    int64AsType: int64As === 'bigint' ? 'bigint' : 'number',
  })
  return {
    dumps(value: unknown): Uint8Array {
      let prepared: unknown
      try {
        prepared = prepare(value, [], packr)
      } catch (error) {
        if (!(error instanceof Refusal)) throw error
        throw new SerializationError(
          `msgpack cannot represent ${error.message} at ${pathOf(error.reversedPath)}; plain objects, arrays, Map, Date, Uint8Array and primitives are supported`,
        )
      }
      try {
        return packr.pack(prepared)
      } catch (error) {
        throw new SerializationError(`msgpack cannot encode the value: ${(error as Error).message}`, { cause: error })
      }
    },
    loads(bytes: Uint8Array): unknown {
      // A plain Uint8Array view makes bins decode as Uint8Array rather than Buffer.
      const view = Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes
      const outer = decoding
      decoding = packr
      let value: unknown
      try {
        value = packr.unpack(view)
      } catch (error) {
        throw new SerializationError(`msgpack: the bytes are not valid MessagePack (${(error as Error).message})`, { cause: error })
      } finally {
        decoding = outer
      }
      // 0xc1 is "never used" in MessagePack; msgpackr hands back a marker object instead of failing.
      if (value !== null && typeof value === 'object' && value.constructor?.name === 'C1Type') {
        throw new SerializationError('msgpack: the bytes are not valid MessagePack (reserved byte 0xc1)')
      }
      return value
    },
  }
}

/**
 * The MessagePack serializer with default options (see {@link createMsgpackSerializer}).
 *
 * @example
 * ```ts
 * import { cache } from '@acache/core'
 * import { LocalFileCache } from '@acache/file'
 * import { msgpack } from '@acache/msgpack'
 *
 * const store = new LocalFileCache('/var/cache/app', { serializer: msgpack })
 * const getUser = cache(60, { key: 'user:{0}', store })(async (id: number) => db.fetchUser(id))
 * ```
 */
export const msgpack: Serializer = {
  dumps: (value) => defaultSerializer().dumps(value),
  loads: (bytes) => defaultSerializer().loads(bytes),
}

let shared: Serializer | undefined
function defaultSerializer(): Serializer {
  return (shared ??= createMsgpackSerializer())
}
