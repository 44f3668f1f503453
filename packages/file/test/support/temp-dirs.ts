import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Temp directories for one test file; `removeAll()` (in afterAll) deletes every one of them. */
export function tempDirs(label: string): { make(): string; removeAll(): void } {
  const root = mkdtempSync(join(tmpdir(), `acache-file-${label}-`))
  let n = 0
  return {
    make: () => join(root, `d${n++}`),
    removeAll: () => rmSync(root, { recursive: true, force: true }),
  }
}
