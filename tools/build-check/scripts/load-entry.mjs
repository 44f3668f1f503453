#!/usr/bin/env node
// Loads one package specifier the way a user would, in this fresh process, and prints
// {"file": <resolved file>, "names": [<exported names>]} as JSON on stdout.
// Usage: node load-entry.mjs import|require <specifier> <resolveFromDir>
// Resolution starts at <resolveFromDir>, a directory whose node_modules holds the unpacked
// tarball, so the package's `exports` map and `files` list are both exercised.
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const [mode, specifier, fromDir] = process.argv.slice(2)
const from = join(fromDir, '__build_check__.js')
const require = createRequire(from)
let file
let names
if (mode === 'require') {
  file = require.resolve(specifier)
  const mod = require(specifier)
  names = Object.keys(mod).filter((n) => n !== '__esModule')
} else if (mode === 'import') {
  // A bare specifier resolves from the importing module, so import it from a one-line module
  // placed in fromDir (named by pid: several of these processes run at once).
  const shim = join(fromDir, `__build_check_${process.pid}.mjs`)
  writeFileSync(shim, `export const url = import.meta.resolve(${JSON.stringify(specifier)})\nexport const ns = await import(${JSON.stringify(specifier)})\n`)
  try {
    const { url, ns } = await import(pathToFileURL(shim).href)
    file = fileURLToPath(url)
    names = Object.keys(ns)
  } finally {
    rmSync(shim, { force: true })
  }
} else {
  throw new Error(`unknown mode ${mode}`)
}
process.stdout.write(JSON.stringify({ file: String(file), names: names.sort() }) + '\n')
