import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The site loads only its own scripts, models and wasm (tfjs compiles wasm: 'wasm-unsafe-eval'; Next's hydration
 * scripts are inline), never runs in a frame, and sends no referrer to other sites. The webcam is the page's own.
 */
const CSP = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'${process.env.NODE_ENV === 'development' ? " 'unsafe-eval'" : ''}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' data: blob:",
  "worker-src 'self' blob:",
  "media-src 'self' blob: mediastream:",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = [
  { key: 'Content-Security-Policy', value: CSP },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
  { key: 'Permissions-Policy', value: 'camera=(self), microphone=(), geolocation=()' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
];

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
  // On every page, API answer and static file.
  async headers() {
    return [{ source: '/:path*', headers: SECURITY_HEADERS }];
  },
};

export default config;
