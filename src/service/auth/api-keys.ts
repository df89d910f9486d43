import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../storage/db.ts';

// Keys are shown once and stored only as sha256: a leaked database does not leak usable keys.
// A key has ~256 bits of entropy, so an unsalted fast hash is enough (no dictionary to attack).

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function newApiKeySecret(): string {
  return `ft_${randomBytes(32).toString('base64url')}`;
}

/** Stores an existing secret (idempotent by hash); returns the key's id. */
export async function registerApiKey(db: Queryable, secret: string, name: string): Promise<string> {
  const hash = hashApiKey(secret);
  const found = await db.query<{ id: string }>(`select id from api_keys where key_hash = $1`, [hash]);
  if (found.rows[0]) return found.rows[0].id;
  const id = randomUUID();
  await db.query(`insert into api_keys (id, name, key_hash, prefix) values ($1, $2, $3, $4) on conflict (key_hash) do nothing`, [
    id,
    name,
    hash,
    secret.slice(0, 7),
  ]);
  const again = await db.query<{ id: string }>(`select id from api_keys where key_hash = $1`, [hash]);
  return again.rows[0]!.id;
}

export async function createApiKey(db: Queryable, name: string): Promise<{ id: string; key: string }> {
  const key = newApiKeySecret();
  const id = await registerApiKey(db, key, name);
  return { id, key };
}

export async function listApiKeys(db: Queryable): Promise<ApiKeyInfo[]> {
  const r = await db.query<{ id: string; name: string; prefix: string; created_at: Date; revoked_at: Date | null }>(
    `select id, name, prefix, created_at, revoked_at from api_keys order by created_at`,
  );
  return r.rows.map((k) => ({ id: k.id, name: k.name, prefix: k.prefix, createdAt: k.created_at, revokedAt: k.revoked_at }));
}

/** Revokes by id or by the shown prefix; returns how many keys were revoked. */
export async function revokeApiKey(db: Queryable, idOrPrefix: string): Promise<number> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
  const r = await db.query(
    isUuid
      ? `update api_keys set revoked_at = now() where id = $1 and revoked_at is null`
      : `update api_keys set revoked_at = now() where prefix = $1 and revoked_at is null`,
    [idOrPrefix],
  );
  return r.rowCount;
}

/** Counts revoked keys too: a data directory whose keys were all revoked is not "fresh". */
export async function countApiKeys(db: Queryable): Promise<number> {
  const r = await db.query<{ n: number }>(`select count(*)::int as n from api_keys`);
  return r.rows[0]!.n;
}
