/** Entry of a SampleLoader's worker thread: rebuilds the set and transform, then makes the batches asked for. */
import { parentPort, workerData } from 'node:worker_threads';
import { makeBatch } from './samples';
import { type SampleJob, type SampleWorkerData, unpackSamples } from './sample-workers';
import { transformFromSpec } from './transforms';

const { packed, transform: spec } = (workerData as SampleWorkerData).cvSamples;
const set = unpackSamples(packed);
const transform = spec ? transformFromSpec(spec, set) : undefined;

parentPort!.on('message', (job: SampleJob) => {
  try {
    const batch = makeBatch(set, job.indices, transform, job.seed, job.batch);
    const buffers = [batch.x, batch.y, batch.boxes, batch.boxClasses, batch.boxCounts, batch.masks].filter((a) => a).map((a) => a!.buffer as ArrayBuffer);
    parentPort!.postMessage({ id: job.id, batch }, buffers);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: (e as Error).message });
  }
});
