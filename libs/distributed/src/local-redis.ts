/**
 * A throwaway redis-server on a free loopback port, for tests and benchmarks on one machine (no persistence: a
 * restart loses every job, which is what the queue must survive).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Is `redis-server` on the PATH? */
export const hasRedisServer = () => spawnSync('redis-server', ['--version']).status === 0;

export interface LocalRedis {
  port: number;
  url: string;
  /** Kills the server (SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

/**
 * Starts `redis-server` on a free loopback port and waits until it answers PING.
 *
 * @example
 * const redis = await startLocalRedis(); // redis.url: redis://127.0.0.1:<port>
 * await redis.stop();
 */
export async function startLocalRedis(): Promise<LocalRedis> {
  const port = await freeLoopbackPort();
  let server: ChildProcess | null = null;
  const local: LocalRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      for (let i = 0; i < 200; i++) {
        if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`redis-server did not answer on port ${port}`);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (!server || server.exitCode !== null) return resolve();
        server.once('exit', () => resolve());
        server.kill('SIGKILL');
      }),
  };
  await local.start();
  return local;
}
