/**
 * Wall-clock per named stage of a job (load, decode, inference, write...), in the order first seen.
 *
 * @example
 * const timer = new StageTimer();
 * const images = await timer.time('decode', () => Promise.all(files.map(decodeImage)));
 * console.error(timer.summary()); // "load 0.41 s, decode 1.20 s, inference 3.02 s"
 */
export class StageTimer {
  readonly seconds = new Map<string, number>();

  /** Runs `fn`, adding its duration (sync or async) to `stage`. */
  async time<T>(stage: string, fn: () => T | Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(stage, (performance.now() - t0) / 1000);
    }
  }

  /** Adds seconds measured elsewhere (e.g. a Predictor's own timing) to `stage`. */
  add(stage: string, seconds: number): void {
    this.seconds.set(stage, (this.seconds.get(stage) ?? 0) + seconds);
  }

  /** Per-stage seconds as an object (for JSON reports). */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.seconds].map(([k, v]) => [k, +v.toFixed(4)]));
  }

  summary(): string {
    return [...this.seconds].map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ');
  }
}
