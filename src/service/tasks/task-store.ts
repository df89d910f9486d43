import type { Queryable } from '../storage/db.ts';

export type TaskStatus = 'Pending' | 'Ready' | 'Error' | 'Request Moderated' | 'Content Moderated';
export type TaskKind = 'finetune' | 'generate';
export const TASK_PHASES = ['captioning', 'training', 'extracting', 'saving', 'sampling'] as const;
export type TaskPhase = (typeof TASK_PHASES)[number];

export interface TaskRow {
  id: string;
  key_id: string;
  kind: TaskKind;
  region: string;
  status: TaskStatus;
  progress: number | null;
  result: Record<string, unknown> | null;
  details: Record<string, unknown> | null;
  preview_blob: string | null;
  /** What a worker is doing with the task now; null before one starts it. */
  phase: TaskPhase | null;
  input: Record<string, unknown>;
  webhook_url: string | null;
  webhook_secret: string | null;
  created_at: Date;
  updated_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID.test(s);

export class TooManyActiveTasks extends Error {
  constructor(readonly limit: number) {
    super(`You have reached the limit of ${limit} active tasks. Wait for some to finish before submitting more.`);
  }
}

/** Another key's task, another region's task and a malformed id all read as "not found". */
export async function findTask(db: Queryable, id: string, keyId: string, region: string): Promise<TaskRow | null> {
  if (!isUuid(id)) return null;
  const r = await db.query<TaskRow>(`select * from tasks where id = $1 and key_id = $2 and region = $3`, [id, keyId, region]);
  return r.rows[0] ?? null;
}

/** Tasks of a key still Pending: what the active-task limit counts. */
export async function countActiveTasks(db: Queryable, keyId: string): Promise<number> {
  const r = await db.query<{ n: number }>(`select count(*)::int as n from tasks where key_id = $1 and status = 'Pending'`, [keyId]);
  return r.rows[0]!.n;
}

export async function getTaskById(db: Queryable, id: string): Promise<TaskRow | null> {
  const r = await db.query<TaskRow>(`select * from tasks where id = $1`, [id]);
  return r.rows[0] ?? null;
}

/**
 * Inserts a task and its queue job in the caller's transaction, after checking the key's active
 * task count under a per-key advisory lock (two concurrent submits cannot both take the 24th slot).
 */
export async function insertTaskWithJob(
  tx: Queryable,
  t: { id: string; keyId: string; kind: TaskKind; region: string; input: Record<string, unknown>; webhookUrl?: string; webhookSecret?: string },
  limits: { maxActive: number; maxAttempts: number },
): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(hashtext($1))`, [t.keyId]);
  if ((await countActiveTasks(tx, t.keyId)) >= limits.maxActive) throw new TooManyActiveTasks(limits.maxActive);
  await tx.query(
    `insert into tasks (id, key_id, kind, region, status, progress, input, webhook_url, webhook_secret)
     values ($1, $2, $3, $4, 'Pending', 0, $5::jsonb, $6, $7)`,
    [t.id, t.keyId, t.kind, t.region, JSON.stringify(t.input), t.webhookUrl ?? null, t.webhookSecret ?? null],
  );
  await tx.query(`insert into jobs (id, kind, state, max_attempts) values ($1, $2, 'queued', $3)`, [t.id, t.kind, limits.maxAttempts]);
}

export async function setTaskProgress(db: Queryable, id: string, progress: number): Promise<void> {
  await db.query(`update tasks set progress = $2, updated_at = now() where id = $1 and status = 'Pending'`, [id, progress]);
}

/** Written once per phase change (a few per task), not throttled like progress. */
export async function setTaskPhase(db: Queryable, id: string, phase: TaskPhase): Promise<void> {
  await db.query(`update tasks set phase = $2, updated_at = now() where id = $1 and status = 'Pending'`, [id, phase]);
}

/** Returns false when the task no longer exists (deleted while it ran). */
export async function markTaskReady(tx: Queryable, id: string, result: Record<string, unknown>): Promise<boolean> {
  const r = await tx.query(
    `update tasks set status = 'Ready', progress = 1, result = $2::jsonb, details = null, updated_at = now() where id = $1 returning id`,
    [id, JSON.stringify(result)],
  );
  return r.rows.length > 0;
}

export async function markTaskError(tx: Queryable, id: string, reason: string): Promise<boolean> {
  const r = await tx.query(`update tasks set status = 'Error', details = $2::jsonb, updated_at = now() where id = $1 returning id`, [
    id,
    JSON.stringify({ error: reason }),
  ]);
  return r.rows.length > 0;
}
