/**
 * Six projects: `unit` (the pure core and the handlers), `emulator` (the local stack's own pieces),
 * `integration` (the whole stack over real TLS), `template` (template.yaml's controls), `security`
 * (the stack under attack) and `reliability` (the stack under load and faults).
 * `npm test` runs them all; `npm run test:unit` is the fast loop.
 */
const transform = {
  // Type checking is tsc's job in .ci/run; jest only transpiles. @middy/core ships ESM only,
  // so it is transpiled to CommonJS too (Lambda's bundles get it from esbuild).
  '^.+\\.[tj]s$': [
    'ts-jest',
    {
      tsconfig: {
        isolatedModules: true,
        module: 'commonjs',
        moduleResolution: 'node10',
        allowJs: true,
        verbatimModuleSyntax: false,
      },
    },
  ],
};

const project = (name) => ({
  displayName: name,
  // Faults are injected below the functions' AWS SDK: let it see node's network errors as Errors, as in Lambda.
  ...(['security', 'reliability'].includes(name)
    ? { setupFiles: ['<rootDir>/tests/support/single-realm-errors.ts'] }
    : {}),
  testEnvironment: 'node',
  roots: [`<rootDir>/tests/${name}`],
  testMatch: ['**/*.test.ts'],
  transform,
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
});

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/tests/support/global-setup.mjs',
  projects: ['unit', 'emulator', 'integration', 'template', 'security', 'reliability'].map(project),
  testTimeout: 60000,
  maxWorkers: 2,
};
