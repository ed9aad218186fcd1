/** The picker's samples (written to public/samples by scripts/prepare.ts). Browser-safe. */
export interface Sample {
  file: string;
  kind: 'mnist' | 'fashion' | 'shapes';
  /** Index in the test split (mnist, fashion) or in the shapes seed. */
  index: number;
  title: string;
}

/** Seed of the sample shapes scenes: no shipped model was trained or validated on it. */
export const SAMPLE_SEED = 11;
/** Digits the browser-training page trains on, and the held-out digits it is scored on. */
export const TRAIN_DIGITS = 4000;
export const HELD_OUT_DIGITS = 1000;

export const samples: Sample[] = [
  ...[0, 1, 2, 3, 4, 5].map((i) => ({ file: `mnist-${i}.png`, kind: 'mnist' as const, index: 20 + i * 11, title: `MNIST test digit #${20 + i * 11}` })),
  ...[0, 1, 2, 3, 4, 5].map((i) => ({
    file: `fashion-${i}.png`,
    kind: 'fashion' as const,
    index: 40 + i * 11,
    title: `Fashion-MNIST test image #${40 + i * 11}`,
  })),
  ...[0, 1, 2, 3].map((i) => ({ file: `shapes-${i}.png`, kind: 'shapes' as const, index: i, title: `Shapes scene ${i} (seed ${SAMPLE_SEED})` })),
];
