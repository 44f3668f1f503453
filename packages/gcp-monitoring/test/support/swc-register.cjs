/**
 * Test support: lets a plain `node` child process load this package's TypeScript sources
 * (compiled on the fly with @swc/core, `./x.js` specifiers mapped to `./x.ts`), so a test can run
 * code outside jest's VM — where gaxios's dynamic `import()` works and a metadata probe would
 * really reach the network.
 */
const fs = require('node:fs')
const Module = require('node:module')
const { transformSync } = require('@swc/core')

const resolve = Module._resolveFilename
Module._resolveFilename = function (request, parent, ...rest) {
  if (request.startsWith('.') && request.endsWith('.js')) {
    try {
      return resolve.call(this, request.slice(0, -3) + '.ts', parent, ...rest)
    } catch {
      // not a TypeScript source: resolve as given
    }
  }
  return resolve.call(this, request, parent, ...rest)
}

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  })
  module._compile(code, filename)
}
