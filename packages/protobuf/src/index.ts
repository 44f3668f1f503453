/**
 * `@acache/protobuf` — a Protocol Buffers serializer for acache stores (on protobufjs).
 *
 * @packageDocumentation
 */
export { protobuf } from './protobuf-serializer.js'
export type { ProtobufMessageType, ProtobufOptions } from './protobuf-serializer.js'
