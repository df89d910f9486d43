import { z } from 'zod';
import { intBetween, numberBetween, optionalNullable, outputFormat, text, webhookFields, withDefault } from './schema-helpers.ts';

// The generation routes and their finetuned forms, per BFL's OpenAPI: FluxProInputs /
// FluxProFinetuneInputs, FluxUltraInput / FinetuneFluxUltraInput (issue 4), and the structural ones
// (issue 11): CannyInputs / FinetuneCannyInputs, DepthInputs / FinetuneDepthInputs,
// FluxProFillInputs / FinetuneFluxProFillInputs.

/** Every generation route has these. */
const shared = {
  seed: optionalNullable(z.number().int(), 'Seed for reproducibility; random when absent (the result says which).'),
  safety_tolerance: withDefault(intBetween(0, 6), 2, 'Accepted and recorded; no moderation model runs (API.md "Our choices").'),
  output_format: outputFormat,
  prompt_upsampling: withDefault(z.boolean(), false, 'Accepted and recorded; no prompt model runs (API.md "Our choices").'),
  ...webhookFields,
};

const common = {
  prompt: withDefault(text(), '', 'Text prompt for image generation.'),
  ...shared,
  image_prompt: optionalNullable(z.string(), 'Optional base64 image to start from (img2img).'),
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

// ---------------------------------------------------------------- structural routes (issue 11)
// No size fields: the output has the input image's size, scaled down to at most 1 MP keeping its aspect ratio.

const structuralSteps = withDefault(intBetween(15, 50), 50, 'Number of sampling steps.');
const guidanceOf = (min: number, fallback: number) =>
  withDefault(numberBetween(min, 100), fallback, "Guidance strength, on BFL's scale for this route: how closely the image follows the prompt.");
const requiredPrompt = text().meta({ description: 'Text prompt for image generation.' });
const controlImage = 'Base64 image (JPEG, PNG or WebP) whose edges or depth structure the output follows; the output has its size, at most 1 MP.';

const cannyThresholds = {
  canny_low_threshold: withDefault(intBetween(0, 500), 50, 'Low threshold for Canny edge detection (at most canny_high_threshold).'),
  canny_high_threshold: withDefault(intBetween(0, 500), 200, 'High threshold for Canny edge detection.'),
};

/** A refusal of a combination of fields, as pydantic's model validator would word it (one place formats it: pydantic-errors.ts). */
type Ctx = z.core.$RefinementCtx;
function crossFieldError(ctx: Ctx, field: string, message: string, input: unknown): void {
  ctx.addIssue({ code: 'custom', path: [field], message, input });
}

function thresholdsInOrder(v: { canny_low_threshold: number; canny_high_threshold: number }, ctx: Ctx): void {
  if (v.canny_low_threshold > v.canny_high_threshold) {
    crossFieldError(
      ctx,
      'canny_low_threshold',
      `canny_low_threshold (${v.canny_low_threshold}) must not be above canny_high_threshold (${v.canny_high_threshold})`,
      v.canny_low_threshold,
    );
  }
}

/** The base canny and depth routes take either image; with neither there is no structure to follow. */
function someControl(v: { control_image?: string; preprocessed_image?: string }, ctx: Ctx): void {
  if (v.control_image || v.preprocessed_image) return;
  const message = 'send control_image (a photo to derive the map from) or preprocessed_image (the map itself); neither was given';
  crossFieldError(ctx, 'control_image', message, v.control_image ?? null);
  crossFieldError(ctx, 'preprocessed_image', message, v.preprocessed_image ?? null);
}

const baseControl = {
  control_image: optionalNullable(z.string(), `${controlImage} Used when no preprocessed_image is given.`),
  preprocessed_image: optionalNullable(
    z.string(),
    'Base64 image that already is the edge or depth map: preprocessing is skipped. Wins over control_image when both are sent.',
  ),
};
const finetunedControl = { control_image: z.string().meta({ description: controlImage }) };

export const cannySchema = z
  .object({ prompt: requiredPrompt, ...baseControl, ...cannyThresholds, steps: structuralSteps, guidance: guidanceOf(1, 30), ...shared })
  .superRefine((v, ctx) => {
    someControl(v, ctx);
    thresholdsInOrder(v, ctx);
  });
export const cannyFinetunedSchema = z
  .object({
    ...finetuneFields(1.1),
    prompt: requiredPrompt,
    ...finetunedControl,
    ...cannyThresholds,
    steps: structuralSteps,
    guidance: guidanceOf(1, 30),
    ...shared,
  })
  .superRefine(thresholdsInOrder);
export const depthSchema = z
  .object({ prompt: requiredPrompt, ...baseControl, steps: structuralSteps, guidance: guidanceOf(1, 15), ...shared })
  .superRefine(someControl);
export const depthFinetunedSchema = z.object({
  ...finetuneFields(1.1),
  prompt: requiredPrompt,
  ...finetunedControl,
  steps: structuralSteps,
  guidance: guidanceOf(1, 15),
  ...shared,
});

const fillFields = {
  image: z.string().meta({
    description:
      'Base64 image (JPEG, PNG or WebP) to repaint; the output has its size, at most 1 MP. Without a mask, its alpha channel is the mask: transparent pixels are repainted.',
  }),
  mask: optionalNullable(
    z.string(),
    "Base64 black-and-white image of the image's size: white is repainted, black is kept, grey blends. Wins over the image's alpha channel.",
  ),
  prompt: withDefault(text(), '', 'What to paint in the masked area.'),
  steps: structuralSteps,
  guidance: guidanceOf(1.5, 60),
  ...shared,
};
export const fillSchema = z.object(fillFields);
export const fillFinetunedSchema = z.object({ ...finetuneFields(1.1), ...fillFields });

/** What a structural route conditions on (the model's StructuralControl kinds). */
export type ControlKind = 'canny' | 'depth' | 'fill';

/**
 * Every generation route: its path under /v1, BFL's handler and request-model names, request schema, and summary;
 * `control` for the structural routes. A new generation route is one entry here plus, where its input differs,
 * a case in the service's handler.
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
  'flux-pro-1.0-canny': {
    handler: 'pro_canny',
    component: 'CannyInputs',
    body: cannySchema,
    control: 'canny',
    summary: 'Generate following the edges of a control image (FLUX.1 Canny [pro])',
  },
  'flux-pro-1.0-canny-finetuned': {
    handler: 'flux_pro_1_0_canny_finetuned',
    component: 'FinetuneCannyInputs',
    body: cannyFinetunedSchema,
    control: 'canny',
    summary: 'Generate with a finetune following the edges of a control image',
  },
  'flux-pro-1.0-depth': {
    handler: 'pro_depth',
    component: 'DepthInputs',
    body: depthSchema,
    control: 'depth',
    summary: 'Generate following the depth of a control image (FLUX.1 Depth [pro])',
  },
  'flux-pro-1.0-depth-finetuned': {
    handler: 'flux_pro_1_0_depth_finetuned',
    component: 'FinetuneDepthInputs',
    body: depthFinetunedSchema,
    control: 'depth',
    summary: 'Generate with a finetune following the depth of a control image',
  },
  'flux-pro-1.0-fill': {
    handler: 'fill',
    component: 'FluxProFillInputs',
    body: fillSchema,
    control: 'fill',
    summary: 'Repaint the masked part of an image (FLUX.1 Fill [pro]; mask or alpha channel)',
  },
  'flux-pro-1.0-fill-finetuned': {
    handler: 'flux_pro_1_0_fill_finetuned',
    component: 'FinetuneFluxProFillInputs',
    body: fillFinetunedSchema,
    control: 'fill',
    summary: 'Repaint the masked part of an image with a finetune',
  },
} as const;

export type InferenceEndpoint = keyof typeof INFERENCE_ENDPOINTS;
export type FinetunedEndpoint = Extract<InferenceEndpoint, `${string}-finetuned`>;
export type BaseEndpoint = Exclude<InferenceEndpoint, FinetunedEndpoint>;
/** The canny, depth and fill routes. */
export type StructuralEndpoint = { [E in InferenceEndpoint]: (typeof INFERENCE_ENDPOINTS)[E] extends { control: ControlKind } ? E : never }[InferenceEndpoint];

/** What a route conditions on: canny, depth or fill for the structural routes, else undefined. */
export function controlKind(endpoint: InferenceEndpoint): ControlKind | undefined {
  const spec = INFERENCE_ENDPOINTS[endpoint];
  return 'control' in spec ? spec.control : undefined;
}

/** What a caller may send to an endpoint (the SDK's request type). */
export type InferenceRequest<E extends InferenceEndpoint> = z.input<(typeof INFERENCE_ENDPOINTS)[E]['body']>;
/** The same request after validation and defaults (what a handler sees). */
export type InferenceInput = z.output<(typeof INFERENCE_ENDPOINTS)[InferenceEndpoint]['body']>;
/** A structural route's request after validation and defaults. */
export type StructuralInput = z.output<(typeof INFERENCE_ENDPOINTS)[StructuralEndpoint]['body']>;
