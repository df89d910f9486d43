import { randomInt, randomUUID } from 'node:crypto';
import { controlKind, type InferenceEndpoint, type InferenceInput, type StructuralInput } from '../../../api/inference-schemas.ts';
import { inferenceRoutes } from '../../../api/routes.ts';
import { DatasetRejection } from '../../../dataset/dataset-rejection.ts';
import { normalizeImage } from '../../../dataset/normalize-image.ts';
import { controlImageKey, imagePromptKey, maskKey, taskPrefix } from '../../blob-keys.ts';
import type { GenerationInput } from '../../tasks/generation-input.ts';
import { ultraSize } from '../../tasks/output-size.ts';
import { type BoundRoute, implement } from '../bind-routes.ts';
import { assertBelowTaskLimit, assertPublicWebhook, readyFinetune } from '../guards.ts';
import { fieldError } from '../http-errors.ts';
import type { ServiceContext } from '../service-context.ts';
import { submitTask } from '../submit-task.ts';
import { decodeStructuralImages, type StructuralImages } from './structural-images.ts';

/** Steps and guidance for ultra, which exposes neither (BFL runs its own fixed settings). */
const ULTRA_STEPS = 28;
const ULTRA_GUIDANCE = 2.5;

export function inferenceHandlers(ctx: ServiceContext): BoundRoute[] {
  return (Object.keys(inferenceRoutes) as InferenceEndpoint[]).map((endpoint) =>
    implement(inferenceRoutes[endpoint], async ({ body: parsed, request }) => {
      const body = parsed as InferenceInput;
      const kind = controlKind(endpoint);
      assertPublicWebhook(ctx, body.webhook_url);
      const finetune = 'finetune_id' in body ? await readyFinetune(ctx, body.finetune_id, request.keyId) : undefined;
      await assertBelowTaskLimit(ctx, request.keyId);
      // Every image is decoded and checked before anything is stored: a refusal leaves no task and no blob.
      const imagePromptPng = 'image_prompt' in body && body.image_prompt ? await decodeImagePrompt(ctx, body.image_prompt) : undefined;
      const structural = kind ? await decodeStructuralImages(kind, body as StructuralInput, ctx.datasetLimits) : undefined;

      const id = randomUUID();
      const input: GenerationInput = {
        endpoint,
        prompt: body.prompt,
        seed: body.seed ?? randomInt(0, 2 ** 31 - 1),
        ...outputSize(body, structural),
        steps: 'steps' in body ? body.steps : ULTRA_STEPS,
        guidance: 'guidance' in body ? body.guidance : ULTRA_GUIDANCE,
        output_format: body.output_format,
        safety_tolerance: body.safety_tolerance,
        prompt_upsampling: body.prompt_upsampling,
        ...(finetune && 'finetune_strength' in body ? { finetune_id: finetune.id, finetune_strength: body.finetune_strength } : {}),
        ...(imagePromptPng
          ? { image_prompt_blob: imagePromptKey(id), image_prompt_strength: 'image_prompt_strength' in body ? body.image_prompt_strength : 0.1 }
          : {}),
        ...(kind && structural
          ? {
              control_kind: kind,
              control_blob: controlImageKey(id),
              ...(structural.maskPng ? { mask_blob: maskKey(id) } : { preprocessed: structural.preprocessed }),
              ...('canny_low_threshold' in body ? { canny_low_threshold: body.canny_low_threshold, canny_high_threshold: body.canny_high_threshold } : {}),
            }
          : {}),
      };
      const { pollingUrl } = await submitTask(ctx, request, {
        id,
        kind: 'generate',
        input: { ...input },
        webhookUrl: body.webhook_url,
        webhookSecret: body.webhook_secret,
        blobPrefix: taskPrefix(id),
        async writeBlobs() {
          if (imagePromptPng) await ctx.blobs.put(imagePromptKey(id), imagePromptPng);
          if (structural) await ctx.blobs.put(controlImageKey(id), structural.png);
          if (structural?.maskPng) await ctx.blobs.put(maskKey(id), structural.maskPng);
        },
      });
      return body.webhook_url ? { id, status: 'Pending', webhook_url: body.webhook_url } : { id, polling_url: pollingUrl };
    }),
  );
}

/** Ultra: about 1 MP at the aspect ratio; pro: as asked; structural routes: the input image's size (at most 1 MP). */
function outputSize(body: InferenceInput, structural: StructuralImages | undefined): { width: number; height: number } {
  if (structural) return { width: structural.width, height: structural.height };
  if ('aspect_ratio' in body) return ultraSize(body.aspect_ratio);
  if ('width' in body) return { width: body.width, height: body.height };
  throw new Error('a structural request reached outputSize without its images');
}

async function decodeImagePrompt(ctx: ServiceContext, base64: string): Promise<Buffer> {
  try {
    const raw = Buffer.from(base64.replace(/^data:[^,]*,/, ''), 'base64');
    return (await normalizeImage(raw, 'image_prompt', ctx.datasetLimits)).png;
  } catch (err) {
    if (!(err instanceof DatasetRejection)) throw err;
    throw fieldError('body', 'image_prompt', err.message, base64);
  }
}
