import { defineConfig } from 'vitest/config';

// Integration suites that run INSIDE the QEMU-booted dom0 (test/xen/run.sh starts
// them). Their files end in .xen.ts so the host's `npm test` never picks them up.
export default defineConfig({
  test: {
    include: ['test/xen/suites/**/*.xen.ts'],
    // One emulated machine with 2 vcpus: suites create real guests, run them one at a
    // time so they do not starve each other.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
  // dom0 writes to a RAM overlay of the host tree; keep vite's cache with the results.
  cacheDir: process.env.XENVIRT_XEN_RESULTS ? `${process.env.XENVIRT_XEN_RESULTS}/vite-cache` : undefined,
});
