// Runs of single files while working (`npx ava test/x/y.test.ts`): TypeScript through tsx.
// `npm test` runs the same tests compiled once (ava.built.config.js).
export default {
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  files: ['test/**/*.test.ts'],
  timeout: '3m',
  concurrency: 2,
  // a worker process per file: tests chdir, change umask, run as other users and kill children
  workerThreads: false,
};
