import type { UrlSigner } from '../signed-urls.ts';
import type { Queryable } from '../storage/db.ts';
import type { TaskRow } from './task-store.ts';

/** How many of a finetune's generations finetune_details lists (newest first). */
const MAX_LISTED = 100;

export interface GenerationSummary {
  id: string;
  status: string;
  endpoint: string;
  created_at: string;
  sample: string | null;
  params: Record<string, unknown>;
}

/** The key's generations with one finetune in this region, newest first, as finetune_details lists them. */
export async function listFinetuneGenerations(
  db: Queryable,
  q: { finetuneId: string; keyId: string; region: string },
  signer: UrlSigner,
  baseUrl: string,
): Promise<GenerationSummary[]> {
  const r = await db.query<Pick<TaskRow, 'id' | 'status' | 'input' | 'result' | 'created_at'>>(
    `select id, status, input, result, created_at from tasks
     where key_id = $1 and region = $2 and kind = 'generate' and input->>'finetune_id' = $3
     order by created_at desc, id limit ${MAX_LISTED}`,
    [q.keyId, q.region, q.finetuneId],
  );
  return r.rows.map((t) => {
    const hasSample = t.status === 'Ready' && typeof (t.result as { sample_blob?: unknown } | null)?.sample_blob === 'string';
    return {
      id: t.id,
      status: t.status,
      endpoint: String(t.input.endpoint),
      created_at: t.created_at.toISOString(),
      sample: hasSample ? signer.sign(baseUrl, 'sample', t.id) : null,
      params: rerunnableParams(t.input),
    };
  });
}

/** The stored input without blob keys (the images themselves are not sent back) or the endpoint (listed apart). */
function rerunnableParams(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([k]) => k !== 'endpoint' && !k.endsWith('_blob')));
}
