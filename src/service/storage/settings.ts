import { randomBytes } from 'node:crypto';
import type { Queryable } from './db.ts';

/** A per-deployment secret created on first use and shared by every process on the database. */
export async function deploymentSecret(db: Queryable, name: string): Promise<Buffer> {
  await db.query(`insert into settings (name, value) values ($1, $2) on conflict (name) do nothing`, [name, randomBytes(32).toString('base64')]);
  const r = await db.query<{ value: string }>(`select value from settings where name = $1`, [name]);
  return Buffer.from(r.rows[0]!.value, 'base64');
}
