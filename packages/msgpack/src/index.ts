/**
 * `@acache/msgpack` — a MessagePack serializer for acache stores (on msgpackr), byte-compatible
 * with standard MessagePack for plain values.
 *
 * @packageDocumentation
 */
export { msgpack, createMsgpackSerializer, MAP_EXTENSION_TYPE } from './msgpack-serializer.js'
export type { MsgpackOptions } from './msgpack-serializer.js'
