import { defineConfig } from 'vitest/config';

/**
 * `npm run test:crash`: the kill -9 test on its own. Its file is named `*.crash.ts` so the main suite's include list
 * (`*.test.ts`) leaves it out: it runs ~200 child processes in sequence and has its own CI step.
 */
export default defineConfig({
  test: {
    include: ['test/crash/**/*.crash.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    // One file, its tests in order on one workspace.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
