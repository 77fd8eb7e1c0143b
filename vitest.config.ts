import { defineConfig } from 'vitest/config';
import { SummaryLineReporter } from './test/support/summary-line-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', new SummaryLineReporter()],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real brokers, pty pairs and buses; two workers match the 2-core CI machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
