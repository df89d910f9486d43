import type { Queryable } from '../storage/db.ts';
import { markTaskReady } from '../tasks/task-store.ts';
import { enqueueWebhook } from '../webhooks/webhook-outbox.ts';
import type { JobContext } from './job-context.ts';
import { JobAbandoned } from './job-errors.ts';
import { completeJob } from './queue.ts';

/**
 * The end of every job that succeeded, finetune or generation: in one transaction the task becomes
 * Ready with its result, the job completes and the webhook is queued. A task deleted while the job
 * ran gets none of that: what the job wrote under `blobPrefix` is removed and the job is abandoned.
 */
export async function finishTask(
  ctx: JobContext,
  o: { result: Record<string, unknown>; blobPrefix: string; alsoInTransaction?(tx: Queryable): Promise<void> },
): Promise<void> {
  const stillThere = await ctx.db.transaction(async (tx) => {
    if (!(await markTaskReady(tx, ctx.job.id, o.result))) return false;
    await o.alsoInTransaction?.(tx);
    await completeJob(tx, ctx.job.id, ctx.owner);
    await enqueueWebhook(tx, ctx.job.id);
    return true;
  });
  if (!stillThere) {
    await ctx.blobs.deletePrefix(o.blobPrefix);
    throw new JobAbandoned(`${ctx.job.kind} deleted`);
  }
  ctx.onFinished();
}
