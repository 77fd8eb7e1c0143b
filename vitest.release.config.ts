import { defineConfig } from 'vitest/config';

// `npm run test:release`: checks of the packages `npm run release` built (test/release/*.release.ts).
// Kept out of `npm test` because they need the built packages, qemu-user-static and systemd-box.
export default defineConfig({
  test: {
    include: ['test/release/**/*.release.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Emulated runs and the systemd container each use a core; two files at a time on 2 cores.
    maxWorkers: 2,
  },
});
