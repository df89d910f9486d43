import { randomInt, randomUUID } from 'node:crypto';
import type { InferenceEndpoint, InferenceInput } from '../../../api/inference-schemas.ts';
import { inferenceRoutes } from '../../../api/routes.ts';
import { DatasetRejection } from '../../../dataset/dataset-rejection.ts';
import { normalizeImage } from '../../../dataset/normalize-image.ts';
import { imagePromptKey, taskPrefix } from '../../blob-keys.ts';
import type { GenerationInput } from '../../tasks/generation-input.ts';
import { ultraSize } from '../../tasks/output-size.ts';
import { type BoundRoute, implement } from '../bind-routes.ts';
import { assertBelowTaskLimit, assertPublicWebhook, readyFinetune } from '../guards.ts';
import { fieldError } from '../http-errors.ts';
import type { ServiceContext } from '../service-context.ts';
import { submitTask } from '../submit-task.ts';

/** Steps and guidance for ultra, which exposes neither (BFL runs its own fixed settings). */
const ULTRA_STEPS = 28;
const ULTRA_GUIDANCE = 2.5;

export function inferenceHandlers(ctx: ServiceContext): BoundRoute[] {
  return (Object.keys(inferenceRoutes) as InferenceEndpoint[]).map((endpoint) =>
    implement(inferenceRoutes[endpoint], async ({ body: parsed, request }) => {
      const body = parsed as InferenceInput;
      assertPublicWebhook(ctx, body.webhook_url);
      const finetune = 'finetune_id' in body ? await readyFinetune(ctx, body.finetune_id, request.keyId) : undefined;
      await assertBelowTaskLimit(ctx, request.keyId);
      const imagePromptPng = body.image_prompt ? await decodeImagePrompt(ctx, body.image_prompt) : undefined;

      const id = randomUUID();
      const size = 'aspect_ratio' in body ? ultraSize(body.aspect_ratio) : { width: body.width, height: body.height };
      const input: GenerationInput = {
        endpoint,
        prompt: body.prompt,
        seed: body.seed ?? randomInt(0, 2 ** 31 - 1),
        ...size,
        steps: 'steps' in body ? body.steps : ULTRA_STEPS,
        guidance: 'guidance' in body ? body.guidance : ULTRA_GUIDANCE,
        output_format: body.output_format,
        safety_tolerance: body.safety_tolerance,
        prompt_upsampling: body.prompt_upsampling,
        ...(finetune && 'finetune_strength' in body ? { finetune_id: finetune.id, finetune_strength: body.finetune_strength } : {}),
        ...(imagePromptPng
          ? { image_prompt_blob: imagePromptKey(id), image_prompt_strength: 'image_prompt_strength' in body ? body.image_prompt_strength : 0.1 }
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
        },
      });
      return body.webhook_url ? { id, status: 'Pending', webhook_url: body.webhook_url } : { id, polling_url: pollingUrl };
    }),
  );
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
