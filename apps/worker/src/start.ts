/**
 * A queue worker: `npx nx run worker:start -- --redis redis://host:6379 [--concurrency 1] [--queue-name cv]`. It runs
 * shards of every task's val and predict; SIGTERM finishes the shards in hand, then exits.
 */
import { startWorker } from '@cv/distributed';
import { need, parseArgs, runCli } from '@cv/engine';
import { classify } from '@cv/tasks-classify';
import { dcgan } from '@cv/tasks-dcgan';
import { detect } from '@cv/tasks-detect';
import { segment } from '@cv/tasks-segment';
import { sequence } from '@cv/tasks-sequence';
import { z } from 'zod';

const schema = z.object({
  redis: z.string().optional().describe('redis://[:password@]host:port (or rediss://) of the queue'),
  concurrency: z.number().int().positive().default(1).describe('shards at once in this process (they share its models)'),
  queueName: z.string().default('cv').describe("the producers' --queue-name"),
  lockSeconds: z.number().positive().default(30).describe("a killed worker's shard returns to the queue after this"),
  threads: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('oneDNN threads of this process (default: every core); with several workers on one machine, cores / workers'),
});

runCli(
  async (argv) => {
    const { config } = parseArgs(schema, argv);
    const redis = need(config.redis, 'worker:start needs --redis redis://host:6379');
    if (config.threads) process.env.CV_THREADS = String(config.threads); // before the first model loads the kernels
    const worker = await startWorker({ ...config, redis, tasks: [classify, detect, segment, sequence, dcgan] });
    const stop = () => worker.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  },
  { schema, usage: 'usage: nx run worker:start -- --redis redis://host:6379 [--concurrency 1] [--queue-name cv]' },
);
