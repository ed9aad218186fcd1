/** The detection explorer's set (written by scripts/prepare.ts to /reports/explorer/). */
/** Scenes of a seed no model saw, made harder image by image (lower contrast, more noise): see scripts/prepare.ts. */
export const EXPLORER = { seed: 12, images: 48 };
