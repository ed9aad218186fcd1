/** Node-only helpers of coco-ts-api: reading COCO files from disk with clear errors, evaluation over worker threads. */
export { loadCocoFile, loadResultsFile } from './files';
export { blocks, evaluateBlock, evaluateInWorkers, type EvaluationWorkers, startEvaluationWorkers, type WorkerJob } from './workers';
