import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { assertSafeBlobKey, type BlobStore } from './blob-store.ts';

/** Blobs as files under root. Writes go to a temp file, are fsynced, then renamed: a crash leaves the old blob or the new one, never half of one. */
export class LocalBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private path(key: string): string {
    assertSafeBlobKey(key);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.writeAtomically(key, (fh) => fh.writeFile(bytes));
  }

  async putStream(key: string, body: Readable | AsyncIterable<Uint8Array>): Promise<void> {
    await this.writeAtomically(key, async (fh) => {
      // Plain awaited writes: back-pressure for free, and the handle stays ours to fsync and close.
      for await (const chunk of body as AsyncIterable<Uint8Array>) await fh.write(chunk);
    });
  }

  private async writeAtomically(key: string, write: (fh: Awaited<ReturnType<typeof open>>) => Promise<void>): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
    const fh = await open(tmp, 'w');
    try {
      try {
        await write(fh);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path(key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async getStream(key: string): Promise<Readable | null> {
    // Opened first so a missing blob is null here, not an error event later on the stream.
    const fh = await open(this.path(key), 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    return fh ? fh.createReadStream() : null;
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await stat(this.path(key))).isFile();
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.path(prefix), { recursive: true, force: true });
  }

  async listChildren(prefix: string): Promise<{ name: string; modifiedMs: number }[]> {
    let names: string[];
    try {
      names = await readdir(this.path(prefix));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: { name: string; modifiedMs: number }[] = [];
    for (const name of names) {
      const info = await stat(join(this.path(prefix), name)).catch(() => null);
      if (info) out.push({ name, modifiedMs: info.mtimeMs });
    }
    return out;
  }

  /** put() writes `<key>.tmp-<random>` and renames it: a crash in between leaves the temp file. */
  async removeIncompleteWrites(olderThanMs: number): Promise<number> {
    let removed = 0;
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isFile() || !TEMP_FILE.test(e.name)) continue;
      const file = join(e.parentPath, e.name);
      const info = await stat(file).catch(() => null);
      if (info && Date.now() - info.mtimeMs >= olderThanMs) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

const TEMP_FILE = /\.tmp-[0-9a-f]{12}$/;
