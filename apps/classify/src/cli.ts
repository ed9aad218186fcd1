import { ConfigError, configHelp, registerEngineLayers } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import type { z } from 'zod';

/**
 * Runs an app's main function: `--help` prints the generated option list; any error a user can hit
 * becomes one line on stderr and exit code 1 (the stack only with CV_DEBUG=1).
 */
export function runCli(main: (argv: string[]) => Promise<void>, help?: { schema: z.ZodObject; usage: string }): void {
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  registerEngineLayers(); // custom layer classes must be known before any model loads
  registerRegularizationLayers();
  if (help && (argv.includes('--help') || argv.includes('-h'))) {
    console.log(configHelp(help.schema, help.usage));
    return;
  }
  main(argv).catch((e: Error) => {
    const kind = e instanceof ConfigError ? '' : `${e.name && e.name !== 'Error' ? e.name + ': ' : ''}`;
    console.error(`error: ${kind}${e.message}`);
    if (process.env.CV_DEBUG) console.error(e.stack);
    process.exitCode = 1;
  });
}
