#!/usr/bin/env node
// Builds the package in the current directory to dist/esm (ESM) and dist/cjs (CJS), each with
// its own .d.ts, and marks each folder's module format with a package.json so Node and
// TypeScript read every file as what it is (no "masquerading" types).
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
const tsc = require.resolve('typescript/bin/tsc')
const cwd = process.cwd()

rmSync(join(cwd, 'dist'), { recursive: true, force: true })
const run = (project) => execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit', cwd })
run('tsconfig.build.json')
run('tsconfig.cjs.json')
for (const [dir, type] of [['esm', 'module'], ['cjs', 'commonjs']]) {
  mkdirSync(join(cwd, 'dist', dir), { recursive: true })
  writeFileSync(join(cwd, 'dist', dir, 'package.json'), JSON.stringify({ type }) + '\n')
}
