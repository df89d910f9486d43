import { z } from 'zod';
import { intBetween, numberBetween, optionalNullable, outputFormat, text, webhookFields, withDefault } from './schema-helpers.ts';

// The four generation routes of issue 4 and their finetuned forms, per BFL's OpenAPI:
// FluxProInputs / FluxProFinetuneInputs and FluxUltraInput / FinetuneFluxUltraInput.

const common = {
  prompt: withDefault(text(), '', 'Text prompt for image generation.'),
  seed: optionalNullable(z.number().int(), 'Seed for reproducibility; random when absent (the result says which).'),
  safety_tolerance: withDefault(intBetween(0, 6), 2, 'Accepted and recorded; no moderation model runs (API.md "Our choices").'),
  output_format: outputFormat,
  prompt_upsampling: withDefault(z.boolean(), false, 'Accepted and recorded; no prompt model runs (API.md "Our choices").'),
  image_prompt: optionalNullable(z.string(), 'Optional base64 image to start from (img2img).'),
  ...webhookFields,
};

const finetuneFields = (strengthDefault: number) => ({
  finetune_id: z.string().meta({ description: 'ID of the finetune to use (from POST /v1/finetune).' }),
  finetune_strength: withDefault(numberBetween(0, 2), strengthDefault, 'Strength of the finetune: 0 is the base model, 1 as trained, up to 2.'),
});

const side = z.number().int().gte(256).lte(1440).multipleOf(32);
const proFields = {
  width: withDefault(side, 1024, 'Width of the image, a multiple of 32.'),
  height: withDefault(side, 768, 'Height of the image, a multiple of 32.'),
  steps: withDefault(intBetween(1, 50), 40, 'Number of sampling steps.'),
  guidance: withDefault(numberBetween(1.5, 5), 2.5, 'Guidance scale: how closely the image follows the prompt.'),
};

/** "W:H" with both positive integers and the ratio between 21:9 and 9:21. */
export const aspectRatio = z.string().refine(
  (v) => {
    const m = /^(\d+):(\d+)$/.exec(v);
    if (!m) return false;
    const w = Number(m[1]);
    const h = Number(m[2]);
    return w > 0 && h > 0 && w / h <= 21 / 9 + 1e-9 && h / w <= 21 / 9 + 1e-9;
  },
  { message: 'aspect_ratio must be "W:H" between 21:9 and 9:21' },
);

const ultraFields = {
  aspect_ratio: withDefault(aspectRatio, '16:9', 'Aspect ratio "W:H" between 21:9 and 9:21; about one megapixel.'),
  image_prompt_strength: withDefault(numberBetween(0, 1), 0.1, 'How much the image_prompt counts: 0 ignores it, 1 keeps it.'),
};

export const fluxProSchema = z.object({
  ...common,
  ...proFields,
  interval: withDefault(numberBetween(1, 4), 2, 'Accepted and validated; BFL documents no effect.'),
});
export const fluxProFinetunedSchema = z.object({ ...common, ...proFields, ...finetuneFields(1.1) });
export const fluxUltraSchema = z.object({ ...common, ...ultraFields, raw: withDefault(z.boolean(), false, 'Less processed, more natural-looking images.') });
export const fluxUltraFinetunedSchema = z.object({ ...common, ...ultraFields, ...finetuneFields(1.2) });

/**
 * Every generation route: its path under /v1, BFL's handler and request-model names, request schema, and summary.
 * A new generation route is one entry here plus, where its input differs, a case in the service's handler.
 */
export const INFERENCE_ENDPOINTS = {
  'flux-pro-1.1-ultra': {
    handler: 'generate_bigblue',
    component: 'FluxUltraInput',
    body: fluxUltraSchema,
    summary: 'Generate with FLUX1.1 [pro] Ultra (aspect ratio, ~1 MP)',
  },
  'flux-pro-1.1-ultra-finetuned': {
    handler: 'generate_bigblue_finetuned',
    component: 'FinetuneFluxUltraInput',
    body: fluxUltraFinetunedSchema,
    summary: 'Generate with a finetune on FLUX1.1 [pro] Ultra',
  },
  'flux-pro': { handler: 'flux_pro', component: 'FluxProInputs', body: fluxProSchema, summary: 'Generate with FLUX.1 [pro] (width, height, steps, guidance)' },
  'flux-pro-finetuned': {
    handler: 'flux_pro_finetuned',
    component: 'FluxProFinetuneInputs',
    body: fluxProFinetunedSchema,
    summary: 'Generate with a finetune on FLUX.1 [pro]',
  },
} as const;

export type InferenceEndpoint = keyof typeof INFERENCE_ENDPOINTS;
export type FinetunedEndpoint = Extract<InferenceEndpoint, `${string}-finetuned`>;
export type BaseEndpoint = Exclude<InferenceEndpoint, FinetunedEndpoint>;

/** What a caller may send to an endpoint (the SDK's request type). */
export type InferenceRequest<E extends InferenceEndpoint> = z.input<(typeof INFERENCE_ENDPOINTS)[E]['body']>;
/** The same request after validation and defaults (what a handler sees). */
export type InferenceInput = z.output<(typeof INFERENCE_ENDPOINTS)[InferenceEndpoint]['body']>;
