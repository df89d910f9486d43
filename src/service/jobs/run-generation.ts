import sharp from 'sharp';
import { decodeToRgb } from '../../dataset/rgb-image.ts';
import type { GenerateRequest, StructuralControl } from '../../model/backend.ts';
import { sampleKey, taskPrefix } from '../blob-keys.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { getFinetuneById } from '../tasks/finetune-store.ts';
import type { GenerationInput } from '../tasks/generation-input.ts';
import { getTaskById, setTaskPhase } from '../tasks/task-store.ts';
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

  const control = input.control_kind ? await loadControl(blobs, input) : undefined;

  const start = Date.now();
  const progress = throttledProgressWriter(ctx);
  await setTaskPhase(ctx.db, job.id, 'sampling');
  const out = await ctx.backend.generate({
    prompt: input.prompt,
    width: input.width,
    height: input.height,
    steps: input.steps,
    guidance: input.guidance,
    seed: input.seed,
    lora,
    imagePrompt,
    control,
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

/** A structural request's conditioning, from the blobs its submit stored at the output size. */
async function loadControl(blobs: BlobStore, input: GenerationInput): Promise<StructuralControl> {
  const png = input.control_blob ? await blobs.get(input.control_blob) : null;
  if (!png) throw new PermanentJobError(`the ${input.control_kind === 'fill' ? 'image' : 'control image'} is missing from storage`);
  const image = await decodeToRgb(png);
  if (image.width !== input.width || image.height !== input.height) {
    throw new PermanentJobError(`the stored control image is ${image.width}×${image.height}, not the task's ${input.width}×${input.height}`);
  }
  switch (input.control_kind) {
    case 'canny':
      return {
        kind: 'canny',
        image,
        preprocessed: input.preprocessed ?? false,
        lowThreshold: input.canny_low_threshold ?? 50,
        highThreshold: input.canny_high_threshold ?? 200,
      };
    case 'depth':
      return { kind: 'depth', image, preprocessed: input.preprocessed ?? false };
    case 'fill': {
      const maskPng = input.mask_blob ? await blobs.get(input.mask_blob) : null;
      if (!maskPng) throw new PermanentJobError('the mask is missing from storage');
      const { data, info } = await sharp(maskPng).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== 1 || info.width !== input.width || info.height !== input.height) {
        throw new PermanentJobError(`the stored mask is ${info.width}×${info.height}×${info.channels}, not the task's ${input.width}×${input.height}×1`);
      }
      return { kind: 'fill', image, mask: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    }
    default:
      throw new PermanentJobError(`unknown control kind ${String(input.control_kind)}`);
  }
}
