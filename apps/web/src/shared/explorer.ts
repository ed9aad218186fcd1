/** The detection explorer's set (written by scripts/prepare.ts to /reports/explorer/). */
export const EXPLORER = { seed: 12, images: 48 };
