import { defineConfig } from 'vitest/config';

// Integration tests start real brokers and external clients: generous timeouts,
// and at most two test files at a time on a 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/compat/**', 'node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
  },
});
