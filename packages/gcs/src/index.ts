/**
 * @acache/gcs — a Google Cloud Storage store for acache, on `@google-cloud/storage`.
 *
 * @packageDocumentation
 */
export { GCSCache, GCS_METADATA } from './gcs-cache.js'
export type { GCSCacheOptions } from './gcs-cache.js'
export { objectNameFor, HASHED_NAME_MARKER, MAX_OBJECT_NAME_BYTES } from './object-names.js'
