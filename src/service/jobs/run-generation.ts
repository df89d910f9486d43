import { decodeToRgb } from '../../dataset/rgb-image.ts';
import type { GenerateRequest } from '../../model/backend.ts';
import { sampleKey, taskPrefix } from '../blob-keys.ts';
import { getFinetuneById } from '../tasks/finetune-store.ts';
import type { GenerationInput } from '../tasks/generation-input.ts';
import { getTaskById } from '../tasks/task-store.ts';
import { finishTask } from './finish-task.ts';
import type { JobContext } from './job-context.ts';
import { JobAbandoned, PermanentJobError } from './job-errors.ts';
import { encodeOutputImage } from './output-image.ts';
import { throttledProgressWriter } from './progress-writer.ts';

/** Sample once with the base model (+ the finetune's LoRA at finetune_strength) and store the encoded image. */
export async function runGenerationJob(ctx: JobContext): Promise<void> {
  const { db, blobs, job } = ctx;
  const task = await getTaskById(db, job.id);
  if (!task) throw new JobAbandoned('task deleted');
  const input = task.input as unknown as GenerationInput;

  let lora: GenerateRequest['lora'];
  if (input.finetune_id) {
    const ft = await getFinetuneById(db, input.finetune_id);
    const bytes = ft?.lora_blob ? await blobs.get(ft.lora_blob) : null;
    if (!bytes) throw new PermanentJobError(`finetune ${input.finetune_id} no longer exists`);
    lora = { bytes, strength: input.finetune_strength ?? 1, cacheKey: input.finetune_id };
  }
  let imagePrompt: GenerateRequest['imagePrompt'];
  if (input.image_prompt_blob) {
    const bytes = await blobs.get(input.image_prompt_blob);
    if (!bytes) throw new PermanentJobError('image_prompt is missing from storage');
    // image_prompt_strength is how much the image counts; the backend's strength is how much noise replaces it.
    imagePrompt = { image: await decodeToRgb(bytes), strength: 1 - (input.image_prompt_strength ?? 0.1) };
  }

  const start = Date.now();
  const progress = throttledProgressWriter(ctx);
  const out = await ctx.backend.generate({
    prompt: input.prompt,
    width: input.width,
    height: input.height,
    steps: input.steps,
    guidance: input.guidance,
    seed: input.seed,
    lora,
    imagePrompt,
    signal: ctx.signal,
    onProgress: (p) => progress.report(p),
  });
  await progress.flush();
  ctx.signal.throwIfAborted();
  const encoded = await encodeOutputImage(out.image, input.width, input.height, input.output_format);
  const key = sampleKey(job.id, input.output_format);
  await blobs.put(key, encoded);
  const end = Date.now();
  await finishTask(ctx, {
    result: {
      sample_blob: key,
      prompt: input.prompt,
      seed: input.seed,
      start_time: start / 1000,
      end_time: end / 1000,
      duration: (end - start) / 1000,
      details: { width: input.width, height: input.height, native_width: out.nativeWidth, native_height: out.nativeHeight, model: ctx.backend.name },
    },
    blobPrefix: taskPrefix(job.id),
  });
}
