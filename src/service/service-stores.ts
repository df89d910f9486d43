import { join } from 'node:path';
import type { ServiceConfig } from './config.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { lockDataDir } from './storage/data-dir-lock.ts';
import type { Db } from './storage/db.ts';
import { LocalBlobStore } from './storage/local-blob-store.ts';
import { openDb } from './storage/open-db.ts';
import { S3BlobStore } from './storage/s3-blob-store.ts';

export interface Stores {
  db: Db;
  blobs: BlobStore;
  /** Where the blobs are, for logs: a directory or s3://bucket/prefix/. */
  blobsAt: string;
}

/**
 * The database (migrated) and the blob store a config points at. The data-directory lock guards the
 * embedded PGlite only: with DATABASE_URL any number of processes share the database, and then the
 * blobs too (a shared directory on one machine, a bucket across machines).
 */
export async function openStores(config: ServiceConfig): Promise<Stores> {
  const unlock = config.databaseUrl ? () => {} : await lockDataDir(config.dataDir);
  let db: Db;
  try {
    db = await openDb({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  } catch (err) {
    unlock();
    throw err;
  }
  const s3 = config.blobs.kind === 's3' ? new S3BlobStore(config.blobs) : undefined;
  const close = db.close.bind(db);
  db = {
    ...db,
    // Everything opened here closes with the database, which every caller already closes.
    async close() {
      try {
        await close();
      } finally {
        s3?.close();
        unlock();
      }
    },
  };
  const localRoot = join(config.dataDir, 'blobs');
  return { db, blobs: s3 ?? new LocalBlobStore(localRoot), blobsAt: s3?.url ?? localRoot };
}
