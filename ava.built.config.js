// `npm test`: the tests as compiled once by scripts/build-tests.mjs (no tsx loader and no
// TypeScript compile in each worker). Same tests, same settings otherwise.
import base from './ava.config.js';

export default {
  ...base,
  extensions: ['js'],
  nodeArguments: [],
  files: ['.test-build/test/**/*.test.js'],
};
