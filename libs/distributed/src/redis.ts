/** Redis URLs → connection options for BullMQ (ioredis), and a form of the URL that is safe to print. */
import { ConfigError } from '@cv/engine';

export interface RedisTarget {
  /** ioredis options; `maxRetriesPerRequest: null` as BullMQ's workers need (commands wait out a Redis restart). */
  options: { host: string; port: number; db: number; username?: string; password?: string; tls?: object; maxRetriesPerRequest: null };
  /** The URL without its password: `redis://host:6379/0`. */
  display: string;
}

/**
 * Parses `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS). A bad URL is one line naming it (with
 * the password hidden) and the expected form.
 *
 * @example
 * const { options, display } = redisTarget('redis://:secret@10.0.0.5:6379/2'); // display: redis://:***@10.0.0.5:6379/2
 */
export function redisTarget(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`--redis / --queue '${hidePassword(url)}' is not a URL; use redis://host:6379 (or rediss:// for TLS)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new ConfigError(`--redis / --queue '${hidePassword(url)}' is not a redis:// or rediss:// URL; use redis://host:6379`);
  if (!u.hostname) throw new ConfigError(`--redis / --queue '${hidePassword(url)}' names no host; use redis://host:6379`);
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new ConfigError(`--redis / --queue '${hidePassword(url)}': '${u.pathname.slice(1)}' is not a database number`);
  const options: RedisTarget['options'] = { host: u.hostname.replace(/^\[|\]$/g, ''), port, db, maxRetriesPerRequest: null };
  if (u.username) options.username = decodeURIComponent(u.username);
  if (u.password) options.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') options.tls = {};
  return { options, display: `${u.protocol}//${u.password ? `${u.username}:***@` : u.username ? `${u.username}@` : ''}${u.host}/${db}` };
}

/** A URL as it may be printed: the password replaced by ***. */
export function hidePassword(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
