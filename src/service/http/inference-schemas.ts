import { z } from 'zod';
import { intBetween, numberBetween, optionalNullable, outputFormat, webhookFields, withDefault } from './schema-helpers.ts';

// The four generation routes of issue 4 and their finetuned forms, per BFL's OpenAPI:
// FluxProInputs / FluxProFinetuneInputs and FluxUltraInput / FinetuneFluxUltraInput.

const common = {
  prompt: withDefault(z.string(), ''),
  seed: optionalNullable(z.number().int()),
  safety_tolerance: withDefault(intBetween(0, 6), 2),
  output_format: outputFormat,
  prompt_upsampling: withDefault(z.boolean(), false),
  image_prompt: optionalNullable(z.string()),
  ...webhookFields,
};

const finetuneFields = (strengthDefault: number) => ({
  finetune_id: z.string(),
  finetune_strength: withDefault(numberBetween(0, 2), strengthDefault),
});

const side = z.number().int().gte(256).lte(1440).multipleOf(32);
const proFields = {
  width: withDefault(side, 1024),
  height: withDefault(side, 768),
  steps: withDefault(intBetween(1, 50), 40),
  guidance: withDefault(numberBetween(1.5, 5), 2.5),
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
  aspect_ratio: withDefault(aspectRatio, '16:9'),
  image_prompt_strength: withDefault(numberBetween(0, 1), 0.1),
};

export const fluxProSchema = z.object({ ...common, ...proFields, interval: withDefault(numberBetween(1, 4), 2) });
export const fluxProFinetunedSchema = z.object({ ...common, ...proFields, ...finetuneFields(1.1) });
export const fluxUltraSchema = z.object({ ...common, ...ultraFields, raw: withDefault(z.boolean(), false) });
export const fluxUltraFinetunedSchema = z.object({ ...common, ...ultraFields, ...finetuneFields(1.2) });

export type InferenceEndpoint = 'flux-pro' | 'flux-pro-finetuned' | 'flux-pro-1.1-ultra' | 'flux-pro-1.1-ultra-finetuned';

export const INFERENCE_SCHEMAS = {
  'flux-pro': fluxProSchema,
  'flux-pro-finetuned': fluxProFinetunedSchema,
  'flux-pro-1.1-ultra': fluxUltraSchema,
  'flux-pro-1.1-ultra-finetuned': fluxUltraFinetunedSchema,
} as const;

export type InferenceInput =
  | z.output<typeof fluxProSchema>
  | z.output<typeof fluxProFinetunedSchema>
  | z.output<typeof fluxUltraSchema>
  | z.output<typeof fluxUltraFinetunedSchema>;
