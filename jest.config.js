/** Three projects so each layer can run alone: `npm run test:unit|test:marble|test:integration`. */
// tsconfig's isolatedModules makes ts-jest transpile each file alone (fast); types are checked by `npm run typecheck`.
const tsJest = ['ts-jest', { diagnostics: false }];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/test'], testPathIgnorePatterns: ['/test/integration/'] },
    { ...common, displayName: 'marble', roots: ['<rootDir>/marble-tests'] },
    { ...common, displayName: 'integration', roots: ['<rootDir>/test/integration'], slowTestThreshold: 30 },
  ],
};
