/**
 * The worker side of `startEvaluationWorkers`: loads the files, says ready, and on 'evaluate' evaluates its
 * block of images and posts the shard back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadCocoFile, loadResultsFile } from './files';
import { buffersOf, packShard } from './shards';
import { accumulateCategoryBlock, evaluateBlock, type WorkerJob } from './workers';

const job = workerData as WorkerJob;
try {
  const gt = loadCocoFile(job.gt);
  const dt = loadResultsFile(gt, job.dt);
  parentPort!.postMessage({ ready: true });
  parentPort!.on('message', () => {
    try {
      if (job.split === 'categories') {
        const accumulated = accumulateCategoryBlock(job, { gt, dt });
        const { params: _p, ...result } = accumulated; // the Params class does not cross threads; the caller has it
        parentPort!.postMessage({ accumulated: result }, [result.precision.buffer, result.recall.buffer, result.scores.buffer] as ArrayBuffer[]);
      } else {
        const packed = packShard(evaluateBlock(job, { gt, dt }));
        parentPort!.postMessage({ packed }, buffersOf(packed));
      }
    } catch (e) {
      parentPort!.postMessage({ error: (e as Error).message });
    }
  });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
