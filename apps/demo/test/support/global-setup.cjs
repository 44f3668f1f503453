// Builds dist/ when it is missing or older than any file in src/, so `npx jest` works on its own
// (under `pnpm test` turbo has built it already and this is a cheap check).
const { execFileSync } = require('node:child_process')
const { existsSync, readdirSync, statSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..', '..')

function newest(dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

module.exports = async function globalSetup() {
  const main = join(root, 'dist', 'main.js')
  if (existsSync(main) && statSync(main).mtimeMs >= newest(join(root, 'src'))) return
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' })
}
