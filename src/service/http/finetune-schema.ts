import { z } from 'zod';
import { intBetween, numberBetween, optionalNullable, webhookFields, withDefault } from './schema-helpers.ts';

/** POST /v1/finetune — BFL's FinetuneInputs (reference/bfl-openapi-2025-05.json). */
export const finetuneRequestSchema = z
  .object({
    file_data: z.string(),
    finetune_comment: z.string(),
    mode: z.enum(['general', 'character', 'style', 'product']),
    trigger_word: withDefault(z.string().min(1), 'TOK'),
    iterations: withDefault(intBetween(100, 1000), 300),
    learning_rate: optionalNullable(numberBetween(1e-6, 0.005)),
    captioning: withDefault(z.boolean(), true),
    priority: withDefault(z.enum(['speed', 'quality', 'high_res_only']), 'quality'),
    finetune_type: withDefault(z.enum(['full', 'lora']), 'full'),
    lora_rank: withDefault(z.literal([16, 32]), 32),
    ...webhookFields,
  })
  .transform((r) => ({ ...r, learning_rate: r.learning_rate ?? (r.finetune_type === 'full' ? 1e-5 : 1e-4) }));

export type FinetuneRequest = z.output<typeof finetuneRequestSchema>;

export const deleteFinetuneSchema = z.object({ finetune_id: z.string() });
export const finetuneIdQuerySchema = z.object({ finetune_id: z.string() });
export const getResultQuerySchema = z.object({ id: z.string() });
