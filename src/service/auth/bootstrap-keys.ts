import type { Queryable } from '../storage/db.ts';
import { countApiKeys, createApiKey, registerApiKey } from './api-keys.ts';

/**
 * At server start: FLUXTUNE_API_KEY is registered; a data directory with no key at all gets one,
 * returned so the caller can print it — the only time it is ever visible.
 */
export async function bootstrapApiKeys(db: Queryable, envKey: string | undefined): Promise<{ createdKey?: string }> {
  if (envKey) {
    await registerApiKey(db, envKey, 'FLUXTUNE_API_KEY');
    return {};
  }
  if ((await countApiKeys(db)) > 0) return {};
  const { key } = await createApiKey(db, 'initial');
  return { createdKey: key };
}
