/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Transpile only: `tsc --noEmit` in `npm test` does the type checking.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // Integration tests spawn the built CLI and worker threads; give them room on 2 cores.
  testTimeout: 120000,
  maxWorkers: 2,
};
