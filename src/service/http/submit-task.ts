import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../storage/db.ts';
import type { TaskKind } from '../tasks/task-store.ts';
import { insertTaskWithJob, TooManyActiveTasks } from '../tasks/task-store.ts';
import { tooManyTasks } from './guards.ts';
import { baseUrlOf, type ServiceContext } from './service-context.ts';

export interface NewTask {
  id: string;
  kind: TaskKind;
  /** The request as recorded on the task (never file_data or the webhook secret's use beyond delivery). */
  input: Record<string, unknown>;
  webhookUrl?: string;
  webhookSecret?: string;
  /** Blobs written before the task exists; removed again if it cannot be committed. */
  blobPrefix: string;
  writeBlobs(): Promise<void>;
  /** More rows in the same transaction (the finetune row). */
  alsoInsert?(tx: Queryable): Promise<void>;
}

/**
 * Writes a task's blobs, then commits task + job (+ rows) in one transaction before the 200: once
 * the client has an id, a crash cannot lose the job. On failure nothing of it remains.
 */
export async function submitTask(ctx: ServiceContext, request: FastifyRequest, t: NewTask): Promise<{ pollingUrl: string }> {
  try {
    await t.writeBlobs();
    await ctx.db.transaction(async (tx) => {
      await insertTaskWithJob(
        tx,
        { id: t.id, keyId: request.keyId, kind: t.kind, region: ctx.config.region, input: t.input, webhookUrl: t.webhookUrl, webhookSecret: t.webhookSecret },
        { maxActive: ctx.config.maxActiveTasksPerKey, maxAttempts: ctx.config.jobMaxAttempts },
      );
      await t.alsoInsert?.(tx);
    });
  } catch (err) {
    await ctx.blobs.deletePrefix(t.blobPrefix).catch(() => {});
    if (err instanceof TooManyActiveTasks) throw tooManyTasks(err);
    throw err;
  }
  ctx.jobs?.notify();
  return { pollingUrl: `${baseUrlOf(ctx, request)}/v1/get_result?id=${t.id}` };
}
