import type { Queryable } from '../storage/db.ts';
import { enqueueWebhook } from '../webhooks/webhook-outbox.ts';

/**
 * A finetune made from an imported LoRA file: its task is Ready from the start (no job is queued),
 * its row says what is true of it — a LoRA of the file's rank, no training steps, no learning
 * rate, no images or captions — and a webhook, if asked for, goes out as for a finished training.
 * One transaction, after the LoRA blob is written.
 */
export async function insertImportedFinetune(
  tx: Queryable,
  f: {
    id: string;
    keyId: string;
    region: string;
    comment: string;
    triggerWord: string;
    loraRank: number;
    loraBlob: string;
    input: Record<string, unknown>;
    webhookUrl?: string;
    webhookSecret?: string;
  },
): Promise<void> {
  await tx.query(
    `insert into tasks (id, key_id, kind, region, status, progress, result, input, webhook_url, webhook_secret)
     values ($1, $2, 'finetune', $3, 'Ready', 1, $4::jsonb, $5::jsonb, $6, $7)`,
    [f.id, f.keyId, f.region, JSON.stringify({ finetune_id: f.id }), JSON.stringify(f.input), f.webhookUrl ?? null, f.webhookSecret ?? null],
  );
  await tx.query(
    `insert into finetunes (id, key_id, region, finetune_comment, trigger_word, mode, finetune_type, lora_rank, iterations,
                            learning_rate, priority, captioning, image_count, dataset, captions, lora_blob)
     values ($1, $2, $3, $4, $5, 'general', 'lora', $6, 0, 0, 'quality', false, 0, '[]'::jsonb, '[]'::jsonb, $7)`,
    [f.id, f.keyId, f.region, f.comment, f.triggerWord, f.loraRank, f.loraBlob],
  );
  await enqueueWebhook(tx, f.id);
}
