/**
 * @acache/file — a local-directory store for acache: one file per key, atomic writes, optional
 * gzip, safe to share between the processes of one machine.
 *
 * @packageDocumentation
 */
export { LocalFileCache } from './local-file-cache.js'
export type { LocalFileCacheOptions } from './local-file-cache.js'
export { entryFileName, isEntryFileName } from './file-names.js'
export { FILE_HEADER_BYTES, decodeFile, encodeFile } from './file-format.js'
export type { DecodedFile } from './file-format.js'
