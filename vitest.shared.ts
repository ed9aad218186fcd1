import { defineConfig } from 'vitest/config';

/** Shared vitest settings: node environment, one fork at a time per project (tfjs engines are heavy). */
export const sharedTestConfig = defineConfig({
  test: {
    environment: 'node',
    include: ['src/**/*.spec.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
