import PQueue from 'p-queue';
import { HttpError } from './errors';

/** Uploads decoded and predicted at once (inference already uses every core through oneDNN). */
export const CONCURRENCY = 2;
/** Uploads allowed to wait; one more is refused with 503 instead of holding its body in memory. */
export const MAX_WAITING = 64;

const KEY = Symbol.for('cv.web.queue');
const holder = globalThis as { [KEY]?: PQueue };
const queue = (holder[KEY] ??= makeQueue());

/** After this long idle, the C heap's freed pages go back to the system (libvips' decoding buffers, freed but kept). */
const TRIM_AFTER_MS = 250;

function makeQueue(): PQueue {
  const q = new PQueue({ concurrency: CONCURRENCY });
  let timer: ReturnType<typeof setTimeout> | null = null;
  q.addEventListener('active', () => {
    if (timer) clearTimeout(timer);
    timer = null;
  });
  q.addEventListener('idle', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (q.size + q.pending === 0) import('@cv/engine').then((e) => e.releaseFreeMemory()).catch(() => undefined);
    }, TRIM_AFTER_MS);
    timer.unref?.();
  });
  return q;
}

/** Counts a request in before its body is read; refuses it when the queue is full. */
export async function queued<T>(work: () => Promise<T>): Promise<T> {
  if (queue.size + queue.pending >= MAX_WAITING + CONCURRENCY) {
    throw new HttpError(503, `the server is busy (${queue.size} uploads waiting); retry in a moment`);
  }
  return queue.add(work) as Promise<T>;
}

export function queueState(): { waiting: number; running: number; concurrency: number; maxWaiting: number } {
  return { waiting: queue.size, running: queue.pending, concurrency: CONCURRENCY, maxWaiting: MAX_WAITING };
}
