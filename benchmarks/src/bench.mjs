// `pnpm bench`: runs every scenario, each in its own Node process (`node --expose-gc src/<file>.mjs
// <scenario> --json=…`), then writes benchmarks/RESULTS.md and the root README section from the
// collected results (also kept in benchmarks/results.json).
// Usage: node src/bench.mjs                 every scenario, fresh results
//        node src/bench.mjs miss stampede   re-measure these, keep the others from results.json
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { machine, versions } from './harness.mjs'
import { summaryTable, writeReports } from './report.mjs'

const PLAN = [
  ['core.mjs', 'sync-hit'],
  ['core.mjs', 'async-hit'],
  ['core.mjs', 'miss'],
  ['core.mjs', 'stampede'],
  ['core.mjs', 'memory'],
  ['redis.mjs', 'redis-sequential'],
  ['redis.mjs', 'redis-concurrent'],
  ['redis.mjs', 'hybrid-hit'],
  ['redis-pause.mjs', 'redis-pause'],
]

const benchDir = join(import.meta.dirname, '..')
const store = join(benchDir, 'results.json')
const asked = process.argv.slice(2)
for (const name of asked) {
  if (!PLAN.some(([, s]) => s === name)) throw new Error(`unknown scenario ${name}; known: ${PLAN.map(([, s]) => s).join(', ')}`)
}
const plan = asked.length ? PLAN.filter(([, s]) => asked.includes(s)) : PLAN
const previous = asked.length && existsSync(store) ? JSON.parse(readFileSync(store, 'utf8')) : undefined
const all = previous?.scenarios ?? {}

const loadavg = os.loadavg().map((x) => x.toFixed(2)).join(' / ')
const started = performance.now()
const tmp = mkdtempSync(join(os.tmpdir(), 'acache-bench-'))
try {
  for (const [file, scenario] of plan) {
    const out = join(tmp, `${scenario}.json`)
    console.log(`\n=== ${scenario} (src/${file}) ===`)
    const t = performance.now()
    const code = await new Promise((resolve) => {
      const child = spawn(process.execPath, ['--expose-gc', join(import.meta.dirname, file), scenario, `--json=${out}`], { stdio: 'inherit', cwd: benchDir })
      child.on('exit', (c, signal) => resolve(signal ?? c))
    })
    if (code === 0 && existsSync(out)) {
      Object.assign(all, JSON.parse(readFileSync(out, 'utf8')))
    } else {
      all[scenario] = { kind: 'error', error: `src/${file} ${scenario} exited with ${code}`, measuredAt: new Date().toISOString() }
    }
    console.log(`(${((performance.now() - t) / 1000).toFixed(1)} s)`)
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
const wallSeconds = (performance.now() - started) / 1000
// A partial re-run keeps the wall time of the last full run (the time `pnpm bench` takes).
const meta = { machine: machine(), versions: versions(), date: new Date().toISOString(), loadavg, wallSeconds: asked.length ? previous?.meta?.wallSeconds : wallSeconds }
writeFileSync(store, JSON.stringify({ meta, scenarios: all }, null, 2) + '\n')
writeReports(all, meta)
console.log(`\n${summaryTable(all)}\n\nWrote benchmarks/RESULTS.md and the README section in ${wallSeconds.toFixed(0)} s.`)
