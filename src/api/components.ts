import { z } from 'zod';
import { detailResponse, httpValidationError, validationError } from './error-schemas.ts';
import {
  deleteFinetuneResponse,
  deleteFinetuneSchema,
  finetuneDetailResponse,
  finetuneRequestSchema,
  finetuneSubmitResponse,
  myFinetunesResponse,
} from './finetune-schemas.ts';
import { INFERENCE_ENDPOINTS } from './inference-schemas.ts';
import { asyncResponse, asyncWebhookResponse, resultResponse, taskStatus } from './result-schemas.ts';

/** Named schemas: OpenAPI's components.schemas, under BFL's names where BFL has the schema. */
export const components = z.registry<{ id: string }>();

const named: [z.ZodType, string][] = [
  [finetuneRequestSchema, 'FinetuneInputs'],
  [deleteFinetuneSchema, 'DeleteFinetuneInputs'],
  [finetuneSubmitResponse, 'FinetuneSubmitResponse'],
  [myFinetunesResponse, 'MyFinetunesResponse'],
  [finetuneDetailResponse, 'FinetuneDetailResponse'],
  [deleteFinetuneResponse, 'DeleteFinetuneResponse'],
  [resultResponse, 'ResultResponse'],
  [taskStatus, 'StatusResponse'],
  [asyncResponse, 'AsyncResponse'],
  [asyncWebhookResponse, 'AsyncWebhookResponse'],
  [detailResponse, 'Detail'],
  [httpValidationError, 'HTTPValidationError'],
  [validationError, 'ValidationError'],
  ...Object.values(INFERENCE_ENDPOINTS).map((e): [z.ZodType, string] => [e.body, e.component]),
];
for (const [schema, id] of named) schema.register(components, { id });

export function componentName(schema: z.ZodType): string | undefined {
  return components.get(schema)?.id;
}
