/**
 * @acache/s3 — an Amazon S3 (or S3-compatible) store for acache, through `@aws-sdk/client-s3`.
 *
 * @packageDocumentation
 */
export { S3Cache } from './s3-cache.js'
export type { S3CacheOptions } from './s3-cache.js'
export { objectName, HASHED_KEY_MARKER, MAX_OBJECT_KEY_BYTES } from './object-names.js'
