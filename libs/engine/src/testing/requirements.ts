/**
 * Tests that need something outside npm (the oneDNN addon, a browser, a GPU adapter, Redis): on CI (`CI=true`)
 * a missing one fails the run with one line naming what to install — a CI run never passes by skipping them;
 * on a developer's machine the tests are skipped and the skip is printed.
 *
 * @example
 * describe.skipIf(!available('the oneDNN addon', existsSync(ADDON_PATH), ENABLE_HINT))('oneDNN kernels', () => { ... });
 */
export function available(what: string, present: boolean, install: string): boolean {
  if (present) return true;
  if (isCi()) throw new Error(`${what} is missing on CI, where its tests must run: ${install}`);
  console.warn(`[skipped] ${what} is not available here, so its tests are skipped: ${install}`);
  return false;
}

/** `CI=true` (or 1), as CI services and `.ci/run` set it. */
export const isCi = () => ['true', '1'].includes(String(process.env.CI ?? '').toLowerCase());
