import { z } from 'zod';

/** BFL's StatusResponse strings, exactly. */
export const taskStatus = z.enum(['Task not found', 'Pending', 'Request Moderated', 'Content Moderated', 'Ready', 'Error']);

export const getResultQuerySchema = z.object({ id: z.string() });

/** GET /v1/get_result: BFL's ResultResponse, plus `preview` (ours: the latest training preview while a finetune trains). */
export const resultResponse = z.object({
  id: z.string(),
  status: taskStatus,
  result: z
    .record(z.string(), z.unknown())
    .nullable()
    .optional()
    .meta({ description: 'Generation: {sample, prompt, seed, start_time, end_time, duration, details}; finetune: {finetune_id}' }),
  progress: z.number().nullable().optional().meta({ description: 'A real 0–1 fraction while Pending (BFL usually sent null)' }),
  details: z.record(z.string(), z.unknown()).nullable().optional().meta({ description: 'On Error: {error: reason}' }),
  preview: z.string().nullable().optional().meta({ description: 'Ours: signed URL of the latest training preview image' }),
  phase: z.enum(['queued', 'captioning', 'training', 'extracting', 'saving', 'sampling']).nullable().optional().meta({
    description:
      'Ours, while Pending: queued (waiting for a worker); a finetune is captioning, training, extracting (a full finetune factoring its LoRA) or saving; a generation is sampling. Null once it ended.',
  }),
});

/** A submit without a webhook: poll polling_url. */
export const asyncResponse = z.object({ id: z.string(), polling_url: z.string() });
/** A submit with webhook_url: the result is POSTed there. */
export const asyncWebhookResponse = z.object({ id: z.string(), status: z.string(), webhook_url: z.string() });
export const submitResponse = z.union([asyncResponse, asyncWebhookResponse]);
