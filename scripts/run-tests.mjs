#!/usr/bin/env node
// The one test command: builds every package, type-checks, runs every package's jest suite
// (through turbo, continuing past failures), then prints a plain "N passed, N failed" line
// summed from each package's jest JSON report. Exits non-zero on any failure, including a
// build or type-check failure that produced no test report.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' }
const workspaces = ['packages', 'apps', 'tools']
  .flatMap((dir) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).map((name) => join(root, dir, name)) : []))
  .concat([join(root, 'benchmarks')])
  .filter((dir) => existsSync(join(dir, 'package.json')))

for (const dir of workspaces) rmSync(join(dir, '.jest-results.json'), { force: true })

const turbo = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', 'typecheck', 'test', '--continue', ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
})

let passed = 0
let failed = 0
const problems = []
for (const dir of workspaces) {
  const file = join(dir, '.jest-results.json')
  if (!existsSync(file)) continue
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests
  failed += report.numFailedTests
  // A suite that failed to run (syntax error, failing import) has no failed tests: count it.
  for (const suite of report.testResults) {
    if (suite.status === 'failed' && suite.assertionResults.every((a) => a.status !== 'failed')) {
      failed += 1
      problems.push(`suite failed to run: ${suite.name}`)
    }
  }
}
if (turbo.status !== 0 && failed === 0) {
  failed += 1
  problems.push(`turbo exited with ${turbo.status} (a build or type-check failed)`)
}
for (const p of problems) console.log(p)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
