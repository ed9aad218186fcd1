import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * tfjs, its wasm backend, sharp and the native runtimes stay outside the server bundle (their .wasm / .node
 * files are found from node_modules); the workspace libraries are TypeScript sources, compiled by Next.
 */
const config: NextConfig = {
  serverExternalPackages: [
    '@tensorflow/tfjs',
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-layers',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-backend-cpu',
    'sharp',
    'onnxruntime-node',
    'onnx-proto',
    'vega',
    'vega-lite',
    'cli-progress',
  ],
  transpilePackages: [
    '@cv/engine',
    '@cv/data',
    '@cv/metrics',
    '@cv/backbones',
    '@cv/regularization',
    'coco-ts-api',
    '@cv/tasks-classify',
    '@cv/tasks-detect',
    '@cv/tasks-segment',
    '@cv/tasks-dcgan',
  ],
  turbopack: { root },
  outputFileTracingRoot: root,
  poweredByHeader: false,
  devIndicators: false,
};

export default config;
