import { runStorageSuite } from '@acache/storage-test-suite'
import { LocalFileCache, type LocalFileCacheOptions } from '../src/index.js'
import { tempDirs } from './support/temp-dirs.js'

const dirs = tempDirs('suite')
afterAll(() => dirs.removeAll())

const variants: Array<[string, LocalFileCacheOptions, boolean]> = [
  ['LocalFileCache (json)', {}, false],
  ['LocalFileCache (v8, compress)', { serializer: 'v8', compress: true }, true],
  ['LocalFileCache (json, compress, dedupeWrites)', { compress: true, dedupeWrites: true }, false],
  ['LocalFileCache (v8, dedupeWrites)', { serializer: 'v8', dedupeWrites: true }, true],
]

for (const [name, options, binary] of variants) {
  runStorageSuite(
    { describe, test, beforeEach, afterEach },
    {
      name,
      // Entries report failures through onError: a conforming store never fails here.
      create: () => new LocalFileCache(dirs.make(), { ...options, onError: 'raise' }),
      createSibling: () => new LocalFileCache(dirs.make(), { ...options, onError: 'raise' }),
      capabilities: { binary },
    },
  )
}
