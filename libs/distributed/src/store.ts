/**
 * Where shards put their outputs: a folder (one machine, or a network file system every worker mounts). The
 * interface is what a worker and a producer need, so an object store can stand in for the folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '@cv/engine';

export interface ShardStore {
  /** Writes a shard's text record whole (a retried shard replaces its own record, never adds a second). */
  put(key: string, text: string): void;
  /** The record, or null when the shard has not finished. */
  get(key: string): string | null;
  /** The folder the task's files go to (drawn images, masks), shared by every shard. */
  readonly filesDir: string;
}

/** A ShardStore in a folder: records under `<root>/.shards/`, files in `<root>` itself. */
export class FolderStore implements ShardStore {
  constructor(readonly root: string) {}

  get filesDir(): string {
    return this.root;
  }

  put(key: string, text: string): void {
    writeFileAtomic(this.file(key), text);
  }

  get(key: string): string | null {
    const f = this.file(key);
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : null;
  }

  private file(key: string): string {
    if (!/^[\w.-]+$/.test(key)) throw new Error(`shard key '${key}' has characters a file name cannot hold`);
    return path.join(this.root, '.shards', `${key}.json`);
  }
}
