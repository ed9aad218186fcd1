import { Rng } from '@cv/engine/core';

export const WAVE_CLASSES = ['sine', 'square', 'sawtooth', 'triangle', 'chirp'] as const;

/**
 * A seeded set of 1-D series for sequence classification: five waveform classes (sine, square, sawtooth,
 * triangle, a chirp whose frequency doubles), each with a random length of 40–120 steps, period 8–30 steps,
 * phase, amplitude 0.5–2, offset ±1 and Gaussian noise σ 0.3. Sequence i of a seed is the same for any n.
 */
export function generateWaves(n: number, seed = 1): { label: string; values: number[] }[] {
  const out: { label: string; values: number[] }[] = [];
  for (let i = 0; i < n; i++) {
    const rng = new Rng(seed * 1_000_003 + i);
    const label = WAVE_CLASSES[Math.floor(rng.next() * WAVE_CLASSES.length)];
    const length = 40 + Math.floor(rng.next() * 81);
    const period = 8 + rng.next() * 22;
    const phase = rng.next();
    const amp = 0.5 + rng.next() * 1.5;
    const offset = rng.next() * 2 - 1;
    const values: number[] = [];
    for (let t = 0; t < length; t++) {
      const cycles = label === 'chirp' ? (t / period) * (1 + t / length) : t / period;
      const u = (cycles + phase) % 1;
      const shape = {
        sine: Math.sin(2 * Math.PI * u),
        square: u < 0.5 ? 1 : -1,
        sawtooth: 2 * u - 1,
        triangle: 1 - 4 * Math.abs(u - 0.5),
        chirp: Math.sin(2 * Math.PI * u),
      }[label];
      values.push(Math.round((offset + amp * shape + 0.3 * rng.normal()) * 1000) / 1000);
    }
    out.push({ label, values });
  }
  return out;
}

/** The set as CSV: a `label` column, then one column per step (shorter series leave trailing cells empty). */
export function wavesCsv(waves: { label: string; values: number[] }[]): string {
  const width = Math.max(...waves.map((w) => w.values.length));
  const header = ['label', ...Array.from({ length: width }, (_, t) => `t${t}`)].join(',');
  return [header, ...waves.map((w) => [w.label, ...w.values, ...Array(width - w.values.length).fill('')].join(','))].join('\n') + '\n';
}
