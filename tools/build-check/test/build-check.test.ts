/**
 * Build check: every PUBLISHABLE workspace package under packages/* (found by reading
 * packages/*\/package.json; `"private": true` ones are skipped) is checked as it would be
 * published — from the tarball `pnpm pack` makes of it (workspace:* already rewritten):
 *
 *   1. it is a devDependency of @acache/build-check (`"@acache/x": "workspace:*"`), so that
 *      turbo's `^build` builds it before this suite runs.  A NEW PACKAGE MUST BE ADDED to
 *      tools/build-check/package.json devDependencies (then `pnpm install`); this test fails
 *      until it is, so nobody forgets;
 *   2. publint reports no errors (warnings and suggestions are printed, not fatal);
 *   3. Are the Types Wrong? (attw, default "strict" profile: node10, node16-cjs, node16-esm,
 *      bundler) reports no problems.  A package that deliberately drops a resolution mode (e.g.
 *      node10 for subpath exports) says so in its own `.attw.json` (attw's config file, read
 *      from the package directory), e.g. `{ "profile": "node16" }`;
 *   4. each entry point of its `exports` map (`.` and every subpath, except `./package.json`,
 *      other non-JS files and `*` patterns) loads with `import()` AND with `require()`, each in
 *      a fresh Node process, from the unpacked tarball with only its dependencies and
 *      peerDependencies reachable (so a runtime import of a devDependency or of a file left out
 *      of `files` fails here), and both export the same set of names.
 *
 * One jest test per package per check (per entry point for 4), so a failure names the package.
 * The slow parts (pack, attw, publint, child processes) all start in beforeAll and run
 * concurrently, bounded by the CPU count; each test awaits its own result.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'

const repoRoot = resolve(__dirname, '../../..')
const buildCheckDir = resolve(__dirname, '..')
const scriptsDir = join(buildCheckDir, 'scripts')

interface Manifest {
  name: string
  version: string
  private?: boolean
  main?: string
  exports?: unknown
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

interface WorkspacePackage {
  name: string
  dir: string
  manifest: Manifest
  /** exports-map subpaths to load: '.', './x', … */
  subpaths: string[]
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T

/** The subpaths of an `exports` map that name JavaScript entry points. */
function entrySubpaths(manifest: Manifest): string[] {
  const { exports } = manifest
  if (exports === undefined || exports === null) return manifest.main ? ['.'] : []
  if (typeof exports === 'string' || Array.isArray(exports)) return ['.']
  const keys = Object.keys(exports as Record<string, unknown>)
  if (!keys.some((k) => k.startsWith('.'))) return ['.'] // a conditions object for '.'
  return keys.filter(
    (k) =>
      k.startsWith('.') &&
      !k.includes('*') && // patterns cannot be enumerated
      !/\.(json|css|wasm|d\.ts)$/.test(k) && // './package.json' and other non-JS files
      (exports as Record<string, unknown>)[k] !== null, // explicitly blocked subpaths
  )
}

function discoverPublishablePackages(): WorkspacePackage[] {
  // ACACHE_BUILD_CHECK_PACKAGES_DIR points the check at another directory (used to test the
  // check itself against deliberately broken packages).
  const packagesDir = process.env.ACACHE_BUILD_CHECK_PACKAGES_DIR ?? join(repoRoot, 'packages')
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(packagesDir, d.name, 'package.json')))
    .map((d) => {
      const dir = join(packagesDir, d.name)
      const manifest = readJson<Manifest>(join(dir, 'package.json'))
      return { name: manifest.name, dir, manifest, subpaths: entrySubpaths(manifest) }
    })
    .filter((p) => !p.manifest.private)
    .sort((a, b) => a.name.localeCompare(b.name))
}

const packages = discoverPublishablePackages()
const ownManifest = readJson<Manifest>(join(buildCheckDir, 'package.json'))

// ---------------------------------------------------------------------------------------------
// Child processes, bounded so that a dozen packages don't start fifty processes on two cores.

interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

const limit = Math.max(2, availableParallelism())
let running = 0
const waiting: Array<() => void> = []

async function run(command: string, args: string[], cwd: string): Promise<RunResult> {
  if (running >= limit) await new Promise<void>((r) => waiting.push(r))
  running += 1
  try {
    return await new Promise<RunResult>((resolvePromise, reject) => {
      const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('error', reject)
      child.on('close', (code) => resolvePromise({ code, stdout, stderr }))
    })
  } finally {
    running -= 1
    waiting.shift()?.()
  }
}

const node = (args: string[], cwd: string) => run(process.execPath, args, cwd)

function parseJson<T>(what: string, result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`${what} exited with ${result.code} and no JSON output:\n${result.stderr || result.stdout}`)
  }
}

// ---------------------------------------------------------------------------------------------
// The checks.

const workDir = mkdtempSync(join(tmpdir(), 'acache-build-check-'))

/** `pnpm pack` into a private directory; resolves to the tarball path. */
async function pack(pkg: WorkspacePackage): Promise<string> {
  const dest = join(workDir, 'tarballs', pkg.name.replace('@', '').replace('/', '__'))
  mkdirSync(dest, { recursive: true })
  const result = await run('pnpm', ['pack', '--pack-destination', dest, '--json'], pkg.dir)
  const { filename } = parseJson<{ filename: string }>(`pnpm pack in ${pkg.dir}`, result)
  if (result.code !== 0 || !existsSync(filename)) {
    throw new Error(`pnpm pack failed in ${pkg.dir} (exit ${result.code}):\n${result.stderr}`)
  }
  return filename
}

interface PublintMessage {
  type: 'error' | 'warning' | 'suggestion'
  code: string
  text: string
}

async function runPublint(tarball: string): Promise<PublintMessage[]> {
  const result = await node([join(scriptsDir, 'publint.mjs'), tarball], buildCheckDir)
  return parseJson<{ messages: PublintMessage[] }>('publint', result).messages
}

interface AttwProblem {
  kind: string
  entrypoint?: string
  resolutionKind?: string
}

interface AttwOutcome {
  problems: AttwProblem[]
  /** attw's own human-readable report, only when there are problems */
  report: string
}

function attwBin(): string {
  // The CLI's exports map hides its bin file: find the package directory through its package.json.
  const pkgJson = require.resolve('@arethetypeswrong/cli/package.json', { paths: [buildCheckDir] })
  return join(dirname(pkgJson), readJson<{ bin: { attw: string } }>(pkgJson).bin.attw)
}

async function runAttw(pkg: WorkspacePackage, tarball: string): Promise<AttwOutcome> {
  // cwd = the package directory, so attw picks up a package's own .attw.json if it has one.
  const result = await node([attwBin(), tarball, '--format', 'json'], pkg.dir)
  const json = parseJson<{ analysis: { types: unknown; problems?: AttwProblem[] } }>('attw', result)
  if (!json.analysis.types) {
    return { problems: [{ kind: 'NoTypes (the package ships no type declarations)' }], report: '' }
  }
  if (result.code === 0) return { problems: [], report: '' }
  const problems = json.analysis.problems ?? []
  const text = await node([attwBin(), tarball, '--format', 'ascii', '--no-emoji', '--no-color'], pkg.dir)
  return { problems, report: text.stdout }
}

/**
 * Unpacks the tarball to <dir>/node_modules/<name> and makes only its dependencies,
 * peerDependencies and optionalDependencies reachable from it (linked to what the workspace
 * installed for the package). Resolves to <dir>, the directory to resolve the package from.
 */
async function unpack(pkg: WorkspacePackage, tarball: string): Promise<string> {
  const consumer = join(workDir, 'consumers', pkg.name.replace('@', '').replace('/', '__'))
  const target = join(consumer, 'node_modules', pkg.name)
  mkdirSync(target, { recursive: true })
  const result = await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'], consumer)
  if (result.code !== 0) throw new Error(`tar failed for ${tarball}:\n${result.stderr}`)
  const { dependencies = {}, peerDependencies = {}, optionalDependencies = {} } = pkg.manifest
  for (const dep of new Set([...Object.keys(dependencies), ...Object.keys(peerDependencies), ...Object.keys(optionalDependencies)])) {
    const installed = join(pkg.dir, 'node_modules', dep)
    if (!existsSync(installed)) continue // an optional peer the workspace doesn't install
    const link = join(target, 'node_modules', dep)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(installed, link, 'dir')
  }
  return consumer
}

interface Loaded {
  file: string
  names: string[]
}

async function load(mode: 'import' | 'require', specifier: string, from: string): Promise<Loaded> {
  const result = await node([join(scriptsDir, 'load-entry.mjs'), mode, specifier, from], from)
  if (result.code !== 0) {
    throw new Error(`${mode}(${JSON.stringify(specifier)}) failed in a fresh node process (exit ${result.code}):\n${result.stderr}`)
  }
  return parseJson<Loaded>(`${mode}(${specifier})`, result)
}

const specifierOf = (pkg: WorkspacePackage, subpath: string) => (subpath === '.' ? pkg.name : pkg.name + subpath.slice(1))

interface PackageChecks {
  publint: Promise<PublintMessage[]>
  attw: Promise<AttwOutcome>
  load: Map<string, Promise<{ esm: Loaded; cjs: Loaded }>>
}

/** Marks a promise as handled (its test awaits it later) and returns it unchanged. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined)
  return p
}

const checks = new Map<string, PackageChecks>()

beforeAll(() => {
  for (const pkg of packages) {
    const tarball = later(pack(pkg))
    const consumer = later(tarball.then((t) => unpack(pkg, t)))
    const loads = new Map<string, Promise<{ esm: Loaded; cjs: Loaded }>>()
    for (const subpath of pkg.subpaths) {
      const specifier = specifierOf(pkg, subpath)
      loads.set(
        subpath,
        later(
          consumer.then(async (dir) => {
            const [esm, cjs] = await Promise.all([load('import', specifier, dir), load('require', specifier, dir)])
            return { esm, cjs }
          }),
        ),
      )
    }
    checks.set(pkg.name, {
      publint: later(tarball.then(runPublint)),
      attw: later(tarball.then((t) => runAttw(pkg, t))),
      load: loads,
    })
  }
})

afterAll(async () => {
  // Let every started child process finish before removing what they read.
  await Promise.allSettled([...checks.values()].flatMap((c) => [c.publint, c.attw, ...c.load.values()]))
  rmSync(workDir, { recursive: true, force: true })
})

// ---------------------------------------------------------------------------------------------

test('finds the publishable packages under packages/*', () => {
  expect(packages.length).toBeGreaterThan(0)
  if (!process.env.ACACHE_BUILD_CHECK_PACKAGES_DIR) expect(packages.map((p) => p.name)).toContain('@acache/core')
})

describe.each(packages.map((pkg) => [pkg.name, pkg] as const))('%s', (_name, pkg) => {
  test('is a devDependency of @acache/build-check (so turbo builds it before this check)', () => {
    const declared = ownManifest.devDependencies?.[pkg.name]
    if (declared === undefined) {
      throw new Error(
        `${pkg.name} is publishable but missing from tools/build-check/package.json devDependencies: ` +
          `add "${pkg.name}": "workspace:*" there and run pnpm install.`,
      )
    }
    expect(declared).toMatch(/^workspace:/)
  })

  test('has at least one entry point in its exports map', () => {
    expect(pkg.subpaths.length).toBeGreaterThan(0)
  })

  test('publint: no errors', async () => {
    const messages = await checks.get(pkg.name)!.publint
    const nonErrors = messages.filter((m) => m.type !== 'error')
    if (nonErrors.length > 0) {
      console.warn(`publint ${pkg.name}:\n` + nonErrors.map((m) => `  ${m.type}: ${m.text} [${m.code}]`).join('\n'))
    }
    const errors = messages.filter((m) => m.type === 'error').map((m) => `${m.text} [${m.code}]`)
    expect(errors).toEqual([])
  })

  test('Are the Types Wrong?: no problems', async () => {
    const { problems, report } = await checks.get(pkg.name)!.attw
    if (problems.length > 0) {
      const list = problems.map((p) => `${p.kind}${p.entrypoint ? ` at ${p.entrypoint}` : ''}${p.resolutionKind ? ` (${p.resolutionKind})` : ''}`)
      throw new Error(`attw found problems in ${pkg.name}:\n  ${list.join('\n  ')}\n${report}`)
    }
  })

  if (pkg.subpaths.length === 0) return // jest's .each refuses an empty table; the test above fails
  test.each(pkg.subpaths.map((s) => [specifierOf(pkg, s), s] as const))(
    'import(%j) and require() load in fresh node processes and export the same names',
    async (_specifier, subpath) => {
      const { esm, cjs } = await checks.get(pkg.name)!.load.get(subpath)!
      expect(esm.file).not.toEqual(cjs.file) // the ESM and CJS builds, not one file for both
      expect(esm.names.length).toBeGreaterThan(0)
      const onlyInEsm = esm.names.filter((n) => !cjs.names.includes(n))
      const onlyInCjs = cjs.names.filter((n) => !esm.names.includes(n))
      expect({ onlyInEsm, onlyInCjs, esm: esm.file, cjs: cjs.file }).toEqual({ onlyInEsm: [], onlyInCjs: [], esm: esm.file, cjs: cjs.file })
    },
  )
})
