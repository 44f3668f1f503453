import { readdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { LocalFileCache, entryFileName, isEntryFileName } from '../src/index.js'
import { MAX_ESCAPED_LENGTH } from '../src/file-names.js'
import { tempDirs } from './support/temp-dirs.js'

const dirs = tempDirs('names')
afterAll(() => dirs.removeAll())

const HOSTILE_KEYS = [
  '../x', 'x', '../../etc/passwd', '/abs', '/', '\\', 'C:\\windows', 'a/b', 'a_b', 'a%2Fb', 'a%2fb', 'a%252fb',
  'nul\0byte', '\0', '\0\0', 'k'.repeat(1024), 'é'.repeat(400), 'ключ', '鍵', '🔑', 'e\u0301', '\u00e9',
  '.', '..', '...', '', ' ', 'Key', 'key', 'KEY', 'kEy', 'CON', 'con', 'nul', '\uD800', '\uDC00', '\uFFFD',
  'x'.repeat(MAX_ESCAPED_LENGTH), 'x'.repeat(MAX_ESCAPED_LENGTH + 1), 'a.acache', 'k-a', 'h-' + '0'.repeat(64),
  'a.acache.0123456789abcdef.tmp', 'a.acache.lock', 'line\nbreak', 'tab\t', 'q?x=1&y=2#h', '*', '~', '%',
]

describe('file names', () => {
  test('the mapping is readable for short keys and hashed for the rest', () => {
    expect(entryFileName('a/b')).toBe('k-a%2fb.acache')
    expect(entryFileName('a_b')).toBe('k-a_b.acache')
    expect(entryFileName('a%2Fb')).toBe('k-a%252%46b.acache')
    expect(entryFileName('user:42')).toBe('k-user%3a42.acache')
    expect(entryFileName('User')).toBe('k-%55ser.acache')
    expect(entryFileName('..')).toBe('k-...acache')
    expect(entryFileName('')).toBe('k-.acache')
    expect(entryFileName('nul\0')).toBe('k-nul%00.acache')
    expect(entryFileName('k'.repeat(1024))).toMatch(/^h-[0-9a-f]{64}\.acache$/)
    expect(entryFileName('x'.repeat(MAX_ESCAPED_LENGTH))).toBe(`k-${'x'.repeat(MAX_ESCAPED_LENGTH)}.acache`)
    expect(entryFileName('x'.repeat(MAX_ESCAPED_LENGTH + 1))).toMatch(/^h-/)
    // A lone surrogate cannot be UTF-8 encoded without loss: hashed over UTF-16, so it does not alias U+FFFD.
    expect(entryFileName('\uD800')).toMatch(/^h-/)
    expect(entryFileName('\uD800')).not.toBe(entryFileName('\uFFFD'))
  })

  test('names are distinct, lower-case ASCII, short, single components, and recognised as entries', () => {
    const names = HOSTILE_KEYS.map(entryFileName)
    expect(new Set(names).size).toBe(HOSTILE_KEYS.length)
    // Case-insensitive filesystems fold case: the folded names must still be distinct.
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(HOSTILE_KEYS.length)
    for (const name of names) {
      expect(name).toMatch(/^[a-z0-9._%-]+$/)
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_ESCAPED_LENGTH + 2 + '.acache'.length)
      expect(name).not.toMatch(/^\.\.?$/)
      expect(isEntryFileName(name)).toBe(true)
    }
  })

  test('every hostile key round-trips through a real directory, each in its own file directly inside dir', async () => {
    const dir = dirs.make()
    const store = new LocalFileCache(dir, { onError: 'raise' })
    for (const [i, key] of HOSTILE_KEYS.entries()) await store.set(key, { i, key }, 0)
    for (const [i, key] of HOSTILE_KEYS.entries()) expect(await store.get(key)).toEqual({ i, key })

    const files = readdirSync(dir)
    expect(files.length).toBe(HOSTILE_KEYS.length)
    for (const file of files) expect(statSync(`${dir}/${file}`).isFile()).toBe(true)
    // Nothing was written next to (or above) the directory.
    expect(readdirSync(dirname(dir))).toEqual([dir.slice(dirname(dir).length + 1)])

    await store.delete('../x')
    expect(await store.get('../x')).toBeUndefined()
    expect(await store.get('x')).toEqual({ i: 1, key: 'x' })
    await store.clear()
    expect(readdirSync(dir)).toEqual([])
  })
})
