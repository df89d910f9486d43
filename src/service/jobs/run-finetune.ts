import { createHash } from 'node:crypto';
import { decodeToRgb } from '../../dataset/rgb-image.ts';
import { buildTrainingCaptions } from '../../dataset/training-captions.ts';
import type { TrainCheckpoint, TrainingExample } from '../../model/backend.ts';
import { checkpointKey, finetunePrefix, loraKey, previewKey } from '../blob-keys.ts';
import { getFinetuneById, setFinetuneCaptions, setFinetuneTrained, type FinetuneRow } from '../tasks/finetune-store.ts';
import { markTaskReady, setTaskPreview, setTaskProgress } from '../tasks/task-store.ts';
import { enqueueWebhook } from '../webhooks/webhook-outbox.ts';
import type { JobContext } from './job-context.ts';
import { JobAbandoned, PermanentJobError } from './job-errors.ts';
import { completeJob, recordCheckpoint } from './queue.ts';

const PROGRESS_WRITE_INTERVAL_MS = 250;

/** Caption (once), train with checkpoints and previews, store the LoRA, mark the finetune Ready. */
export async function runFinetuneJob(ctx: JobContext): Promise<void> {
  const { db, blobs, job } = ctx;
  const ft = await getFinetuneById(db, job.id);
  if (!ft) throw new JobAbandoned('finetune deleted');

  const captions = ft.captions ?? (await captionDataset(ctx, ft));
  const examples: TrainingExample[] = [];
  for (const [i, ref] of ft.dataset.entries()) {
    const png = await blobs.get(ref.blob);
    if (!png) throw new PermanentJobError(`training image ${ref.file} is missing from storage`);
    examples.push({ image: await decodeToRgb(png), caption: captions[i]!.caption });
  }
  ctx.signal.throwIfAborted();

  let resumeFrom: TrainCheckpoint | undefined;
  if (job.checkpoint_blob && job.checkpoint_step !== null) {
    const bytes = await blobs.get(job.checkpoint_blob);
    if (bytes) resumeFrom = { step: job.checkpoint_step, bytes };
  }
  ctx.log(
    resumeFrom
      ? `finetune ${ft.id}: resuming from its checkpoint at step ${resumeFrom.step}/${ft.iterations} (attempt ${job.attempts})`
      : `finetune ${ft.id}: training ${ft.iterations} steps from the start (attempt ${job.attempts})`,
  );

  const progress = throttledProgressWriter(ctx);
  const result = await ctx.backend.train(
    {
      examples,
      triggerWord: ft.trigger_word,
      mode: ft.mode,
      iterations: ft.iterations,
      learningRate: ft.learning_rate,
      priority: ft.priority,
      finetuneType: ft.finetune_type,
      loraRank: ft.lora_rank,
      // Derived from the id so a resumed run continues the same random stream.
      seed: createHash('sha256').update(ft.id).digest().readUInt32LE(0),
    },
    {
      resumeFrom,
      signal: ctx.signal,
      onProgress: (p) => progress.report(p),
      onPreview: async (png) => {
        await blobs.put(previewKey(ft.id), png);
        await setTaskPreview(db, ft.id, previewKey(ft.id));
      },
      onCheckpoint: async (cp) => {
        await blobs.put(checkpointKey(ft.id), cp.bytes);
        await recordCheckpoint(db, ft.id, ctx.owner, checkpointKey(ft.id), cp.step);
      },
    },
  );
  await progress.flush();
  ctx.signal.throwIfAborted();

  await blobs.put(loraKey(ft.id), result.lora);
  const stillThere = await db.transaction(async (tx) => {
    if (!(await markTaskReady(tx, ft.id, { finetune_id: ft.id }))) return false;
    await setFinetuneTrained(tx, ft.id, loraKey(ft.id), result.trainingSeconds);
    await completeJob(tx, ft.id, ctx.owner);
    await enqueueWebhook(tx, ft.id);
    return true;
  });
  if (!stillThere) {
    // Deleted while training: the files we just wrote must not outlive it.
    await blobs.deletePrefix(finetunePrefix(ft.id));
    throw new JobAbandoned('finetune deleted');
  }
  await blobs.delete(checkpointKey(ft.id));
  ctx.onFinished();
}

async function captionDataset(ctx: JobContext, ft: FinetuneRow): Promise<NonNullable<FinetuneRow['captions']>> {
  const captions = await buildTrainingCaptions(
    ft.dataset.map((ref) => ({
      file: ref.file,
      userCaption: ref.user_caption,
      loadImage: async () => {
        const png = await ctx.blobs.get(ref.blob);
        if (!png) throw new PermanentJobError(`training image ${ref.file} is missing from storage`);
        return decodeToRgb(png);
      },
    })),
    { mode: ft.mode, triggerWord: ft.trigger_word, captioning: ft.captioning },
    ctx.captioner,
  );
  // Stored before training, so finetune_details shows them early and a resumed job reuses them.
  await setFinetuneCaptions(ctx.db, ft.id, captions);
  return captions;
}

/** The trainer reports often; the database hears at most every 250 ms, in order, never blocking training. */
function throttledProgressWriter(ctx: JobContext) {
  let last = 0;
  let pending: number | null = null;
  let chain: Promise<void> = Promise.resolve();
  const write = (p: number) => {
    chain = chain.then(() => setTaskProgress(ctx.db, ctx.job.id, p)).catch(() => {});
  };
  return {
    report(p: number) {
      const clamped = Math.max(0, Math.min(0.999, p));
      const now = Date.now();
      if (now - last >= PROGRESS_WRITE_INTERVAL_MS) {
        last = now;
        pending = null;
        write(clamped);
      } else {
        pending = clamped;
      }
    },
    async flush() {
      if (pending !== null) write(pending);
      await chain;
    },
  };
}
