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
    // Defaults for a loaded 2-core machine under emulation (a guest create is 3-15 s,
    // node start 2-20 s there); a test or hook that does more passes its own timeout,
    // sized by what it does.
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
  // dom0 writes to a RAM overlay of the host tree; keep vite's cache with the results.
  cacheDir: process.env.XENVIRT_XEN_RESULTS ? `${process.env.XENVIRT_XEN_RESULTS}/vite-cache` : undefined,
});
