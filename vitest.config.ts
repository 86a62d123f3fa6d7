import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most integration tests wait on real peers (reboots, SSH, IRC pacing), not on the CPU: on a 2-core machine
    // vitest's default of one worker per core minus one would run the files one after another.
    maxWorkers: 4,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
