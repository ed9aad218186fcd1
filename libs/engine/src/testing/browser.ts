import { build } from 'esbuild';
import vm from 'node:vm';

/** Node built-ins a browser bundle must never reach for. */
const NODE_ONLY = /^(node:|fs$|path$|os$|worker_threads$|child_process$|url$|util$|stream$|crypto$|module$|sharp$|cli-progress$|@tensorflow\/tfjs-node)/;

/**
 * Bundles `source` (an ES module's text, resolved from `resolveDir`) for the browser platform. Fails
 * naming the import when a file of the suite imports something Node-only (node:*, fs, worker_threads,
 * sharp, cli-progress, tfjs-node), and when a package needs a Node built-in its `browser` field does not
 * map away (esbuild's own error).
 */
export async function bundleForBrowser(source: string, resolveDir: string): Promise<string> {
  const nodeImports: string[] = [];
  const out = await build({
    stdin: { contents: source, resolveDir, loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'no-node',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            // The suite's own files; inside packages, esbuild itself refuses built-ins a package's `browser` field does not map away.
            if (NODE_ONLY.test(args.path) && !args.importer.includes('/node_modules/')) nodeImports.push(`${args.path} (imported by ${args.importer})`);
            return undefined;
          });
        },
      },
    ],
  }).catch((e: Error) => {
    throw new Error(`browser bundle failed: ${nodeImports.length ? `Node-only imports: ${nodeImports.join('; ')}` : e.message}`);
  });
  if (nodeImports.length) throw new Error(`browser bundle has Node-only imports: ${nodeImports.join('; ')}`);
  return out.outputFiles[0].text;
}

/**
 * Runs a bundle in a bare V8 context: no require, process, Buffer or fs — only what a browser page also
 * has (timers, TextEncoder, URL, performance). Returns the context's globals.
 */
export async function runInBareContext(code: string, globals: Record<string, unknown> = {}): Promise<vm.Context> {
  const context = vm.createContext({
    console,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    queueMicrotask,
    TextEncoder,
    TextDecoder,
    URL,
    performance,
    structuredClone,
    ...globals,
  });
  // A page's shape, enough for tfjs to pick its browser platform (no DOM is used by the code under test).
  vm.runInContext(
    'globalThis.window = globalThis; globalThis.self = globalThis; globalThis.document = {}; globalThis.navigator = { userAgent: "bare-context" };',
    context,
  );
  vm.runInContext(code, context);
  const done = context.__done as Promise<unknown> | undefined;
  if (done) await done;
  return context;
}
