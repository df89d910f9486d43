import { join } from 'node:path';
import type { Db } from './db.ts';
import { migrate } from './migrations.ts';

/** DATABASE_URL wins; otherwise PGlite under <dataDir>/pg. Always migrated before it is returned. */
export async function openDb(opts: { dataDir: string; databaseUrl?: string }): Promise<Db> {
  const db = opts.databaseUrl
    ? await (await import('./postgres-db.ts')).openPostgresDb(opts.databaseUrl)
    : await (await import('./pglite-db.ts')).openPgliteDb(join(opts.dataDir, 'pg'));
  await migrate(db);
  return db;
}
