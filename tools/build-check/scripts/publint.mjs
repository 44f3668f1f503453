#!/usr/bin/env node
// Runs publint on a package, linting the tarball `pnpm pack` made of it (the files that would
// really be published), and prints {"messages":[{type,code,text}]} as JSON on stdout.
// A separate process because publint is ESM-only and the jest tests run as CommonJS.
// Usage: node publint.mjs <tarball.tgz>
import { readFile } from 'node:fs/promises'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const [tarball] = process.argv.slice(2)
const buffer = await readFile(tarball)
const tarballData = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)
// No pkgDir: with a tarball, publint lints the unpacked package root (the package.json as
// published, with workspace:* already rewritten by pnpm). pkgDir is only used in messages' paths.
const { messages, pkg } = await publint({ pack: { tarball: tarballData }, level: 'suggestion' })
const out = messages.map((m) => ({ type: m.type, code: m.code, text: formatMessage(m, pkg, { color: false }) ?? m.code }))
process.stdout.write(JSON.stringify({ messages: out }) + '\n')
