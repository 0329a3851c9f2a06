// One Jest run over every package. Tests import packages by their public
// names; those resolve to the TypeScript sources so no build is needed to test.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
    }],
  },
  moduleNameMapper: {
    '^@shmbridge/(core|python-compat|arrow|cli|worker|testkit)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/examples/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/scripts/jest/shm-snapshot.js',
  globalTeardown: '<rootDir>/scripts/jest/shm-check.js',
  testTimeout: 60000,
  testSequencer: '<rootDir>/scripts/jest/sequencer.js',
};
