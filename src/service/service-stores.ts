import { join } from 'node:path';
import type { ServiceConfig } from './config.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { lockDataDir } from './storage/data-dir-lock.ts';
import type { Db } from './storage/db.ts';
import { LocalBlobStore } from './storage/local-blob-store.ts';
import { openDb } from './storage/open-db.ts';

export interface Stores {
  db: Db;
  blobs: BlobStore;
}

/** The database (migrated) and the blob store a config points at. */
export async function openStores(config: ServiceConfig): Promise<Stores> {
  const unlock = config.databaseUrl ? () => {} : await lockDataDir(config.dataDir);
  let db: Db;
  try {
    db = await openDb({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  } catch (err) {
    unlock();
    throw err;
  }
  const close = db.close.bind(db);
  db = {
    ...db,
    async close() {
      try {
        await close();
      } finally {
        unlock();
      }
    },
  };
  return { db, blobs: new LocalBlobStore(join(config.dataDir, 'blobs')) };
}
