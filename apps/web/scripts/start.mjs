// npx nx run web:start — builds the site when it has no build (or an older one than its sources), then serves
// the production build on PORT (default 3000) through scripts/server.mjs (Next's handler with header and request
// timeouts) and prints the URL.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(web, '../..');
const port = process.env.PORT || '3000';
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

const buildId = path.join(web, '.next', 'BUILD_ID');
const sources = Math.max(newestMtime(path.join(web, 'src')), ...['libs', 'models'].map((d) => newestMtime(path.join(root, d))));
if (process.env.WEB_REBUILD === '1' || !fs.existsSync(buildId) || fs.statSync(buildId).mtimeMs < sources) {
  console.log('[web] building the site (next build) ...');
  for (const [cmd, args] of [
    [bin('tsx'), [path.join(web, 'scripts', 'prepare.ts')]],
    [bin('next'), ['build', web]],
  ]) {
    const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
    if (r.status !== 0) {
      console.error(`[web] ${path.basename(cmd)} failed (exit ${r.status}); the site was not started`);
      process.exit(r.status ?? 1);
    }
  }
}
const server = spawn(process.execPath, [path.join(web, 'scripts', 'server.mjs')], {
  stdio: ['ignore', 'pipe', 'inherit'],
  cwd: root,
  env: { ...process.env, PORT: port, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
});
let announced = false;
server.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (!announced && /Ready|started server/i.test(String(chunk))) {
    announced = true;
    console.log(`[web] the demo is serving the shipped models at http://localhost:${port}`);
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code) => process.exit(code ?? 0));
