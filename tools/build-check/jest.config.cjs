module.exports = {
  ...require('../../jest.preset.cjs'),
  // Packing, attw and child processes are slow-ish; the suite runs them concurrently itself.
  testTimeout: 120000,
}
