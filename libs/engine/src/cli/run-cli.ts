import type { z } from 'zod';
import { ConfigError, configHelp } from './args';
import { registerEngineLayers } from '../infer/layers';
import { abortReplicas } from '../train/parallel';
import { releaseBackend } from '../infer/backend';

/** How long a failed command may take to close what it opened before it is made to exit. */
const EXIT_GRACE_MS = 2000;

/**
 * Runs an app's main function: `--help` prints the generated option list; any error a user can hit
 * becomes one line on stderr and exit code 1 (the stack only with CV_DEBUG=1), and the process exits even if
 * something it opened would keep it alive. `setup` runs first
 * (e.g. registering custom layer classes before any model loads).
 */
export function runCli(main: (argv: string[]) => Promise<void>, help?: { schema: z.ZodObject; usage: string }, setup?: () => void): void {
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  registerEngineLayers();
  setup?.();
  if (help && (argv.includes('--help') || argv.includes('-h'))) {
    console.log(configHelp(help.schema, help.usage));
    return;
  }
  main(argv)
    .finally(releaseBackend) // a GPU backend's binding would keep the process alive
    .catch((e: Error) => {
      abortReplicas(); // replicas waiting on this one stop too
      const kind = e instanceof ConfigError ? '' : `${e.name && e.name !== 'Error' ? e.name + ': ' : ''}`;
      console.error(`error: ${kind}${e.message}`);
      if (process.env.CV_DEBUG) console.error(e.stack);
      process.exitCode = 1;
      // Whatever is still open (loader threads, a queue connection, a prefetch) must not keep a failed job alive.
      setTimeout(() => process.exit(1), EXIT_GRACE_MS).unref();
    });
}
