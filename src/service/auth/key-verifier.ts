import type { Queryable } from '../storage/db.ts';
import { hashApiKey } from './api-keys.ts';

/**
 * Resolves x-key to a key id. get_result is polled hard (1,000 req/s target), so results are cached
 * briefly; a revocation made by another process takes effect within ttlMs.
 */
export class KeyVerifier {
  private readonly cache = new Map<string, { keyId: string | null; until: number }>();

  constructor(
    private readonly db: Queryable,
    private readonly ttlMs = 5_000,
  ) {}

  async verify(secret: string | undefined): Promise<string | null> {
    if (!secret) return null;
    const hash = hashApiKey(secret);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.keyId;
    const r = await this.db.query<{ id: string }>(`select id from api_keys where key_hash = $1 and revoked_at is null`, [hash]);
    const keyId = r.rows[0]?.id ?? null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { keyId, until: now + this.ttlMs });
    return keyId;
  }

  forget(): void {
    this.cache.clear();
  }
}
