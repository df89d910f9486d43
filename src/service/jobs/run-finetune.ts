import { createHash } from 'node:crypto';
import { decodeToRgb } from '../../dataset/rgb-image.ts';
import { buildTrainingCaptions } from '../../dataset/training-captions.ts';
import type { TrainCheckpoint, TrainingExample } from '../../model/backend.ts';
import { checkpointKey, finetunePrefix, loraKey, previewAtStepKey } from '../blob-keys.ts';
import { addFinetunePreview, type FinetuneRow, getFinetuneById, setFinetuneCaptions, setFinetuneTrained } from '../tasks/finetune-store.ts';
import { setTaskPhase } from '../tasks/task-store.ts';
import { finishTask } from './finish-task.ts';
import type { JobContext } from './job-context.ts';
import { JobAbandoned, PermanentJobError } from './job-errors.ts';
import { throttledProgressWriter } from './progress-writer.ts';
import { recordCheckpoint } from './queue.ts';

/** Caption (once), train with checkpoints and previews, store the LoRA, mark the finetune Ready. */
export async function runFinetuneJob(ctx: JobContext): Promise<void> {
  const { db, blobs, job } = ctx;
  const ft = await getFinetuneById(db, job.id);
  if (!ft) throw new JobAbandoned('finetune deleted');

  // Auto-captioning takes its share of the progress bar (the captioner runs the model once per image), training the rest.
  const captionShare = ft.captioning && ft.dataset.some((ref) => ref.user_caption === null) ? CAPTION_SHARE : 0;
  const progress = throttledProgressWriter(ctx, { lossLog: true });
  let extracting: Promise<void> | undefined;
  if (!ft.captions && captionShare > 0) await setTaskPhase(db, ft.id, 'captioning');
  const captions = ft.captions ?? (await captionDataset(ctx, ft, (p) => progress.report(captionShare * p)));
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

  await setTaskPhase(db, ft.id, 'training');
  const result = await ctx.backend.train(
    {
      examples,
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
      onProgress: (p, info) => {
        // Awaited only after training returns: a failed write must not become an unhandled rejection meanwhile (the phase is a label, like progress).
        if (info.phase === 'extracting' && !extracting) extracting = setTaskPhase(db, ft.id, 'extracting').catch(() => {});
        // The extraction repeats the last step's loss: it is not another point of the loss curve.
        progress.report(captionShare + (1 - captionShare) * p, info.phase === 'extracting' ? undefined : info);
      },
      // Each preview is kept (the dashboard's gallery); the newest is also get_result's preview.
      onPreview: async (png, step) => {
        await blobs.put(previewAtStepKey(ft.id, step), png);
        await addFinetunePreview(db, ft.id, { step, blob: previewAtStepKey(ft.id, step) });
      },
      onCheckpoint: async (cp) => {
        await blobs.put(checkpointKey(ft.id), cp.bytes);
        await recordCheckpoint(db, ft.id, ctx.owner, checkpointKey(ft.id), cp.step);
      },
    },
  );
  await progress.flush();
  await extracting;
  ctx.signal.throwIfAborted();

  await setTaskPhase(db, ft.id, 'saving');
  await blobs.put(loraKey(ft.id), result.lora);
  await finishTask(ctx, {
    result: { finetune_id: ft.id },
    blobPrefix: finetunePrefix(ft.id),
    alsoInTransaction: (tx) => setFinetuneTrained(tx, ft.id, loraKey(ft.id), result.trainingSeconds),
  });
  await blobs.delete(checkpointKey(ft.id));
}

/**
 * The share of a finetune's progress that auto-captioning takes. flux-mini scores 49 captions at 2 noise levels
 * per image on the 64-token grid (~8 k token-forwards); a default finetune (300 steps of batch 4, 64/256 tokens,
 * forward + backward ≈ 3 forwards) is ~580 k: 8 uncaptioned images are ~10% of the work.
 */
const CAPTION_SHARE = 0.08;

async function captionDataset(ctx: JobContext, ft: FinetuneRow, onProgress: (p: number) => void): Promise<NonNullable<FinetuneRow['captions']>> {
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
    { mode: ft.mode, triggerWord: ft.trigger_word, captioning: ft.captioning, onProgress },
    ctx.captioner,
  );
  // Stored before training, so finetune_details shows them early and a resumed job reuses them.
  await setFinetuneCaptions(ctx.db, ft.id, captions);
  return captions;
}
