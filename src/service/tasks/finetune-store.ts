import type { TrainingCaption } from '../../dataset/training-captions.ts';
import type { Queryable } from '../storage/db.ts';
import { isUuid } from './task-store.ts';

export interface DatasetImageRef {
  file: string;
  blob: string;
  width: number;
  height: number;
  user_caption: string | null;
}

export interface FinetuneRow {
  id: string;
  key_id: string;
  region: string;
  finetune_comment: string;
  trigger_word: string;
  mode: 'general' | 'character' | 'style' | 'product';
  finetune_type: 'full' | 'lora';
  lora_rank: 16 | 32;
  iterations: number;
  learning_rate: number;
  priority: 'speed' | 'quality' | 'high_res_only';
  captioning: boolean;
  image_count: number;
  dataset: DatasetImageRef[];
  captions: TrainingCaption[] | null;
  training_seconds: number | null;
  lora_blob: string | null;
  /** Every reported step as [step, loss, unix ms]; a resumed run appends the steps it repeats again (readers keep the last). */
  loss_log: LossPoint[];
  previews: PreviewRef[];
  created_at: Date;
}

export type LossPoint = [step: number, loss: number, atMs: number];
export interface PreviewRef {
  step: number;
  blob: string;
}

/** job_state: the queue's view (queued, running, done, failed), or null once the job row is gone. */
export type FinetuneWithStatus = FinetuneRow & { status: string; progress: number | null; phase: string | null; job_state: string | null };

export async function insertFinetune(
  tx: Queryable,
  f: Omit<FinetuneRow, 'captions' | 'training_seconds' | 'lora_blob' | 'loss_log' | 'previews' | 'created_at'>,
): Promise<void> {
  await tx.query(
    `insert into finetunes (id, key_id, region, finetune_comment, trigger_word, mode, finetune_type, lora_rank, iterations,
                            learning_rate, priority, captioning, image_count, dataset)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb)`,
    [
      f.id,
      f.key_id,
      f.region,
      f.finetune_comment,
      f.trigger_word,
      f.mode,
      f.finetune_type,
      f.lora_rank,
      f.iterations,
      f.learning_rate,
      f.priority,
      f.captioning,
      f.image_count,
      JSON.stringify(f.dataset),
    ],
  );
}

export async function findFinetune(db: Queryable, id: string, keyId: string, region: string): Promise<FinetuneWithStatus | null> {
  if (!isUuid(id)) return null;
  const r = await db.query<FinetuneWithStatus>(
    `select f.*, t.status, t.progress, t.phase, j.state as job_state from finetunes f join tasks t on t.id = f.id left join jobs j on j.id = f.id
     where f.id = $1 and f.key_id = $2 and f.region = $3`,
    [id, keyId, region],
  );
  return r.rows[0] ?? null;
}

export async function getFinetuneById(db: Queryable, id: string): Promise<FinetuneRow | null> {
  const r = await db.query<FinetuneRow>(`select * from finetunes where id = $1`, [id]);
  return r.rows[0] ?? null;
}

export async function listFinetuneIds(db: Queryable, keyId: string, region: string): Promise<string[]> {
  const r = await db.query<{ id: string }>(`select id from finetunes where key_id = $1 and region = $2 order by created_at desc, id`, [keyId, region]);
  return r.rows.map((x) => x.id);
}

export async function setFinetuneCaptions(db: Queryable, id: string, captions: FinetuneRow['captions']): Promise<void> {
  await db.query(`update finetunes set captions = $2::jsonb where id = $1`, [id, JSON.stringify(captions)]);
}

/** The task's progress and the new loss points in one statement (PGlite runs each on the HTTP thread). */
export async function setFinetuneProgress(db: Queryable, id: string, progress: number, points: LossPoint[]): Promise<void> {
  await db.query(
    `with t as (update tasks set progress = $2, updated_at = now() where id = $1 and status = 'Pending' returning id)
     update finetunes set loss_log = loss_log || $3::jsonb where id in (select id from t)`,
    [id, progress, JSON.stringify(points)],
  );
}

/** A new preview: the latest one (get_result's preview) and one more in the finetune's gallery, in one statement. */
export async function addFinetunePreview(db: Queryable, id: string, preview: PreviewRef): Promise<void> {
  await db.query(
    `with t as (update tasks set preview_blob = $2, updated_at = now() where id = $1 returning id)
     update finetunes set previews = previews || $3::jsonb where id in (select id from t)`,
    [id, preview.blob, JSON.stringify([preview])],
  );
}

export async function setFinetuneTrained(tx: Queryable, id: string, loraBlob: string, trainingSeconds: number): Promise<void> {
  await tx.query(`update finetunes set lora_blob = $2, training_seconds = $3 where id = $1`, [id, loraBlob, trainingSeconds]);
}

/** Deletes the finetune's task row; finetunes, jobs and webhook deliveries go with it (on delete cascade). */
export async function deleteFinetuneRows(db: Queryable, id: string): Promise<boolean> {
  const r = await db.query(`delete from tasks where id = $1 and kind = 'finetune' returning id`, [id]);
  return r.rows.length > 0;
}
