import { z } from 'zod';
import { taskStatus } from './result-schemas.ts';
import { fieldDocs, intBetween, numberBetween, optionalNullable, text, webhookFields, withDefault } from './schema-helpers.ts';

/** BFL's default learning rates by finetune_type (its guide): the API applies them, the benches train with them. */
export const DEFAULT_LEARNING_RATE = { full: 1e-5, lora: 1e-4 } as const;

/** POST /v1/finetune — BFL's FinetuneInputs (reference/bfl-openapi-2025-05.json). */
export const finetuneRequestSchema = z
  .object({
    file_data: z.string().meta({
      description: 'Base64-encoded ZIP of 1–20 JPG/PNG/WebP images and, optionally, a .txt caption per image (same name). A data: prefix is tolerated.',
    }),
    finetune_comment: text().meta({ description: 'Your name for the finetune; shown in finetune_details.', example: 'my-first-finetune' }),
    mode: z.enum(['general', 'character', 'style', 'product']).meta({
      description: 'Shapes the auto-captions: general describes the whole image; character, style and product centre the trigger word on the subject.',
    }),
    trigger_word: withDefault(text().min(1), 'TOK', 'The word that stands for your concept in prompts.'),
    iterations: withDefault(intBetween(100, 1000), 300, 'Number of training steps.'),
    learning_rate: optionalNullable(numberBetween(1e-6, 0.005), 'Defaults to 1e-5 for full finetuning and 1e-4 for LoRA.'),
    captioning: withDefault(z.boolean(), true, 'Caption images that have no .txt caption.'),
    priority: withDefault(
      z.enum(['speed', 'quality', 'high_res_only']),
      'quality',
      "'speed' trains at lower resolution, 'quality' mixes resolutions, 'high_res_only' trains at the native size only.",
    ),
    finetune_type: withDefault(z.enum(['lora', 'full']), 'full', "'lora' trains a LoRA adapter; 'full' trains the blocks and extracts a LoRA afterwards."),
    lora_rank: withDefault(z.literal([16, 32]), 32, 'Rank of the LoRA (for full finetunes: of the extracted LoRA).'),
    ...webhookFields,
  })
  .transform((r) => ({ ...r, learning_rate: r.learning_rate ?? DEFAULT_LEARNING_RATE[r.finetune_type] }));

export type FinetuneRequest = z.output<typeof finetuneRequestSchema>;

export const deleteFinetuneSchema = z.object({ finetune_id: z.string() });
export const finetuneIdQuerySchema = z.object({ finetune_id: z.string() });

/** 200 of POST /v1/finetune: BFL documents no shape; clients read finetune_id (the seed guide) or id. */
export const finetuneSubmitResponse = z.object({
  finetune_id: z.string(),
  id: z.string(),
  polling_url: z.string(),
  status: z.literal('Pending').optional(),
  webhook_url: z.string().optional(),
});

export const myFinetunesResponse = z.object({ finetunes: z.array(z.string()) });

/** Where a finetune stands, finer than its status. */
export const trainingPhases = ['queued', 'captioning', 'training', 'extracting', 'saving', 'ready', 'failed'] as const;

const trainingView = z.object({
  phase: z.enum(trainingPhases).meta({
    description:
      "queued: waiting for a worker; captioning: writing the captions; training: steps running; extracting: a full finetune factoring its weights into the LoRA; saving: the LoRA is being stored; ready; failed: see get_result's details",
  }),
  step: z.number().int().meta({ description: 'Steps done (0 before training starts)' }),
  total_steps: z.number().int(),
  loss: z.array(z.tuple([z.number().int(), z.number()])).meta({ description: 'The training loss as [step, loss], one per step, in step order' }),
  eta_seconds: z.number().nullable().meta({ description: 'Estimated seconds of training left, from the recent steps; null when not training' }),
  previews: z
    .array(z.object({ step: z.number().int(), url: z.string() }))
    .meta({ description: 'A sample rendered with the LoRA so far at each quarter of the run; signed URLs that expire after 10 minutes' }),
});

const generationSummary = z.object({
  id: z.string(),
  status: z.string(),
  endpoint: z.string(),
  created_at: z.string(),
  sample: z.string().nullable().meta({ description: 'Signed URL of the image when Ready' }),
  params: z.record(z.string(), z.unknown()).meta({
    description: 'The request as run (prompt, seed, size, steps, guidance, finetune_strength, …), without its images',
  }),
});

export const finetuneDetails = z.object({
  finetune_comment: z.string(),
  trigger_word: z.string(),
  mode: z.enum(['general', 'character', 'style', 'product']),
  finetune_type: z.enum(['full', 'lora']),
  lora_rank: z.number().int(),
  iterations: z.number().int(),
  learning_rate: z.number(),
  priority: z.enum(['speed', 'quality', 'high_res_only']),
  captioning: z.boolean(),
  timestamp: z.string().meta({ description: 'ISO 8601 time of the request' }),
  // Ours beyond BFL (API.md "finetune_details"):
  status: taskStatus,
  progress: z.number().nullable(),
  image_count: z.number().int(),
  captions: z
    .array(
      z.object({
        file: z.string(),
        caption: z.string(),
        source: z.enum(['user', 'auto', 'measured', 'trigger_only']).meta({
          description:
            "user: the image's .txt; auto: the captioner named the subject; measured: it could not, and said only what it measured (background, position); trigger_only: the trigger word alone",
        }),
        confidence: z
          .number()
          .nullable()
          .meta({ description: "The built-in captioner's confidence (0–1; it names a subject at 0.5 or above); null for user captions" }),
      }),
    )
    .nullable()
    .meta({ description: 'The caption each image trained with, where it came from, and how sure the captioner was' }),
  training_seconds: z.number().nullable(),
  region: z.string(),
  training: described(trainingView, 'Ours: where training stands, its loss curve and its previews (what the dashboard draws)'),
  generations: described(
    z.array(generationSummary),
    "Ours: this key's generations with this finetune, newest first (at most 100), with the parameters to run each again",
  ),
});

export const finetuneDetailResponse = z.object({ finetune_details: finetuneDetails });

export const deleteFinetuneResponse = z.object({
  status: z.string(),
  message: z.string(),
  deleted_finetune_id: z.string(),
  timestamp: z.string(),
});

// ---------------------------------------------------------------- ours: LoRA download and import

/** Layouts of GET /v1/finetune_weights; which tool loads which: src/model/lora/exchange.ts. */
export const loraFormats = ['comfyui', 'kohya', 'diffusers', 'bfl'] as const;
export const loraDtypes = ['bf16', 'fp16', 'fp32'] as const;

/** GET /v1/finetune_weights */
export const finetuneWeightsQuerySchema = z.object({
  finetune_id: z.string(),
  // The defaults are what ComfyUI loads most directly (the kohya layout: src/model/lora/exchange.ts cites its loader).
  format: withDefault(
    z.enum(loraFormats),
    'comfyui',
    "'comfyui' and 'kohya': kohya-style `lora_unet_…` keys (ComfyUI, sd-scripts, Forge; diffusers converts them); 'diffusers': PEFT `transformer.…` keys with the LoraConfig in the metadata; 'bfl': BFL's own layout, as stored.",
  ),
  dtype: withDefault(z.enum(loraDtypes), 'bf16', 'Stored precision of every tensor.'),
});

/** A description that reaches the OpenAPI of a schema no component names (fieldDocs: json-schema.ts reads it for inline schemas too). */
function described<S extends z.ZodType>(schema: S, description: string): S {
  fieldDocs.add(schema, { description });
  return schema;
}

/** POST /v1/finetune_import */
export const finetuneImportSchema = z.object({
  file_data: described(
    z.string(),
    'Base64-encoded safetensors LoRA for the served base model, in the bfl, kohya/ComfyUI or diffusers layout (as finetune_weights writes them). A data: prefix is tolerated.',
  ),
  finetune_comment: described(text(), 'Your name for the finetune; shown in finetune_details.'),
  trigger_word: optionalNullable(text().min(1), "The word that stands for the concept in prompts. Default: the one the file records, else 'TOK'."),
  ...webhookFields,
});

export type FinetuneImportRequest = z.output<typeof finetuneImportSchema>;

/** 200 of POST /v1/finetune_import: the finetune exists and is Ready. */
export const finetuneImportResponse = z.object({
  finetune_id: z.string(),
  id: z.string(),
  polling_url: z.string(),
  status: z.literal('Ready'),
  webhook_url: z.string().optional(),
  layout: described(z.enum(['bfl', 'kohya', 'diffusers']), 'The layout the file came in'),
  lora_rank: described(z.number().int(), 'The largest rank among its modules'),
  modules: described(z.number().int(), 'How many Linears it adapts'),
});
