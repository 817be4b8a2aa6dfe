/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // Integration tests spawn the built CLI and worker threads; give them room on 2 cores.
  testTimeout: 120000,
  maxWorkers: 2,
};
