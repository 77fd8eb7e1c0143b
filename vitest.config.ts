import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real brokers, pty pairs and buses; two workers match the 2-core CI machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
