/**
 * Runs every runnable example (examples/*.mjs) in a child process against the built package
 * (`@acache/core` resolves to dist/, which turbo builds before tests) and checks it exits 0.
 * Files are discovered at run time, so a new example is covered without touching this test.
 */
import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

const packageDir = join(__dirname, '..')
const examplesDir = join(packageDir, 'examples')
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.mjs'))
  .sort()

const TIMEOUT_MS = 15_000

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

function runExample(file: string): Promise<Run> {
  const started = Date.now()
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join('examples', file)],
      { cwd: packageDir, timeout: TIMEOUT_MS, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({ code, signal: error?.signal ?? null, stdout, stderr, ms: Date.now() - started })
      },
    )
  })
}

test('there are examples to run', () => {
  expect(examples).toEqual(expect.arrayContaining(['demo.mjs', 'ttl.mjs', 'swr.mjs', 'bg.mjs']))
})

describe.each(examples)('examples/%s', (file) => {
  test(
    'runs to completion and exits 0 by itself',
    async () => {
      const run = await runExample(file)
      // On failure, show what the script printed.
      expect({ code: run.code, signal: run.signal, stderr: run.code === 0 ? '' : run.stderr + run.stdout }).toEqual({
        code: 0,
        signal: null,
        stderr: '',
      })
      expect(run.stdout.length).toBeGreaterThan(0)
      if (file === 'demo.mjs') {
        expect(run.stdout).toContain('acache demo')
        expect(run.stdout).toContain('Single-flight')
        expect(run.stdout).toContain('Metrics summary')
        expect(run.stdout).toContain('demo finished')
      } else {
        expect(run.stdout).toContain(`${file}: OK`)
      }
    },
    TIMEOUT_MS + 5_000,
  )
})
