// The demo's tests start the built service (dist/) as a child process: test/support/global-setup.cjs
// builds it first when src/ is newer. Generous timeouts: the tests wait for real TTLs and timers.
module.exports = {
  ...require('../../jest.preset.cjs'),
  globalSetup: '<rootDir>/test/support/global-setup.cjs',
  testTimeout: 120000,
}
