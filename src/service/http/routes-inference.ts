import { randomInt, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DatasetRejection } from '../../dataset/dataset-rejection.ts';
import { normalizeImage } from '../../dataset/normalize-image.ts';
import { imagePromptKey, taskPrefix } from '../blob-keys.ts';
import { findFinetune } from '../tasks/finetune-store.ts';
import type { GenerationInput } from '../tasks/generation-input.ts';
import { ultraSize } from '../tasks/output-size.ts';
import { insertTaskWithJob, TooManyActiveTasks } from '../tasks/task-store.ts';
import { INFERENCE_SCHEMAS, type InferenceEndpoint, type InferenceInput } from './inference-schemas.ts';
import { singleError } from './pydantic-errors.ts';
import { atActiveLimit, FINETUNE_NOT_FOUND, rejectPrivateWebhook } from './routes-finetunes.ts';
import { baseUrlOf, type ServiceContext } from './service-context.ts';
import { parseOr422, truncatedInput } from './validate.ts';

/** Steps and guidance for ultra, which exposes neither (BFL runs its own fixed settings). */
const ULTRA_STEPS = 28;
const ULTRA_GUIDANCE = 2.5;

export function registerInferenceRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  for (const endpoint of Object.keys(INFERENCE_SCHEMAS) as InferenceEndpoint[]) {
    app.post(`/v1/${endpoint}`, async (request, reply) => {
      const body = parseOr422(INFERENCE_SCHEMAS[endpoint], request.body, 'body', reply) as InferenceInput | undefined;
      if (!body) return reply;
      if (rejectPrivateWebhook(ctx, body.webhook_url, reply)) return reply;

      let finetune: { id: string; strength: number } | undefined;
      if ('finetune_id' in body) {
        const ft = await findFinetune(ctx.db, body.finetune_id, request.keyId, ctx.config.region);
        if (!ft) return reply.code(404).send(FINETUNE_NOT_FOUND);
        if (ft.status !== 'Ready') return reply.code(400).send({ detail: 'Finetune not ready' });
        finetune = { id: ft.id, strength: body.finetune_strength };
      }
      if (await atActiveLimit(ctx, request.keyId)) return reply.code(429).send({ detail: new TooManyActiveTasks(ctx.config.maxActiveTasksPerKey).message });

      let imagePromptPng: Buffer | undefined;
      if (body.image_prompt) {
        try {
          const raw = Buffer.from(body.image_prompt.replace(/^data:[^,]*,/, ''), 'base64');
          imagePromptPng = (await normalizeImage(raw, 'image_prompt', ctx.datasetLimits)).png;
        } catch (err) {
          if (!(err instanceof DatasetRejection)) throw err;
          return reply.code(422).send(singleError('body', 'image_prompt', 'value_error', `Value error, ${err.message}`, truncatedInput(body.image_prompt)));
        }
      }

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
        ...(finetune ? { finetune_id: finetune.id, finetune_strength: finetune.strength } : {}),
        ...(imagePromptPng
          ? { image_prompt_blob: imagePromptKey(id), image_prompt_strength: 'image_prompt_strength' in body ? body.image_prompt_strength : 0.1 }
          : {}),
      };
      try {
        if (imagePromptPng) await ctx.blobs.put(imagePromptKey(id), imagePromptPng);
        await ctx.db.transaction((tx) =>
          insertTaskWithJob(
            tx,
            { id, keyId: request.keyId, kind: 'generate', region: ctx.config.region, input: { ...input }, webhookUrl: body.webhook_url, webhookSecret: body.webhook_secret },
            { maxActive: ctx.config.maxActiveTasksPerKey, maxAttempts: ctx.config.jobMaxAttempts },
          ),
        );
      } catch (err) {
        await ctx.blobs.deletePrefix(taskPrefix(id)).catch(() => {});
        if (err instanceof TooManyActiveTasks) return reply.code(429).send({ detail: err.message });
        throw err;
      }
      ctx.jobs?.notify();
      return body.webhook_url
        ? { id, status: 'Pending', webhook_url: body.webhook_url }
        : { id, polling_url: `${baseUrlOf(ctx, request)}/v1/get_result?id=${id}` };
    });
  }
}
