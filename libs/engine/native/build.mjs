#!/usr/bin/env node
// Builds the oneDNN kernel addon (libs/engine/native/build/cv_onednn.node) when a C++ compiler and
// oneDNN's headers are present. Runs offline: the Node-API headers come with Node itself (or the
// `node-api-headers` package), never from a download. When something is missing it prints what
// enables the native kernels and exits 0, so installation still succeeds and the engine runs pure wasm.
//
//   node libs/engine/native/build.mjs [--force] [--quiet]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sources = ['onednn.cc', 'conv.cc', 'memory-bound.cc'].map((f) => path.join(here, f));
const header = path.join(here, 'addon.hpp');
const outDir = path.join(here, 'build');
const target = path.join(outDir, 'cv_onednn.node');
const force = process.argv.includes('--force');
const quiet = process.argv.includes('--quiet');
const say = (line) => console.log(`[engine] ${line}`);
const ENABLE = 'apt-get install -y g++ libdnnl-dev, then: node libs/engine/native/build.mjs';

function nodeApiInclude() {
  const bundled = path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node');
  if (existsSync(path.join(bundled, 'node_api.h'))) return bundled;
  try {
    const require = createRequire(import.meta.url);
    return require('node-api-headers').include_dir;
  } catch {
    return null;
  }
}

function oneDnnHeader() {
  return ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'].find((p) => existsSync(p)) ?? null;
}

function main() {
  if (process.env.CV_SKIP_NATIVE === '1') {
    say('native oneDNN kernels: build skipped (CV_SKIP_NATIVE=1)');
    return;
  }
  const newest = Math.max(...[...sources, header, fileURLToPath(import.meta.url)].map((f) => statSync(f).mtimeMs)); // sources or flags
  if (!force && existsSync(target) && statSync(target).mtimeMs >= newest) {
    if (!quiet) say(`native oneDNN kernels: up to date (${path.relative(process.cwd(), target)})`);
    return;
  }
  const cxx = process.env.CXX || 'g++';
  const missing = [];
  if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0) missing.push(`a C++ compiler (${cxx})`);
  const dnnl = oneDnnHeader();
  if (!dnnl) missing.push('oneDNN headers (libdnnl-dev)');
  const napi = nodeApiInclude();
  if (!napi) missing.push('Node-API headers (they ship with Node, or npm package node-api-headers)');
  if (missing.length) {
    say(`native oneDNN kernels not built: missing ${missing.join(', ')}. The engine runs pure wasm. To enable: ${ENABLE}`);
    return;
  }
  mkdirSync(outDir, { recursive: true });
  const partial = `${target}.partial`;
  const args = [
    '-O3',
    '-march=native',
    '-fno-math-errno',
    '-std=c++17',
    '-shared',
    '-fPIC',
    '-fopenmp',
    '-DNODE_GYP_MODULE_NAME=cv_onednn',
    `-I${napi}`,
    `-I${path.dirname(path.dirname(dnnl))}`,
    ...sources,
    '-ldnnl',
    '-o',
    partial,
  ];
  const t0 = Date.now();
  const r = spawnSync(cxx, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(partial, { force: true });
    rmSync(target, { force: true }); // an addon from older sources must not load against newer JS
    const first = (r.stderr || r.error?.message || '').split('\n').find((l) => /error/.test(l)) ?? r.stderr?.split('\n')[0];
    say(`native oneDNN kernels not built: compiler failed (${first?.trim()}). The engine runs pure wasm.`);
    return;
  }
  renameSync(partial, target); // atomic: a half-written addon is never loaded
  say(`native oneDNN kernels built in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${path.relative(process.cwd(), target)}`);
}

main();
