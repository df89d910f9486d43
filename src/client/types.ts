// Wire types of the BFL finetuning API as fluxtune serves it, inferred from the route declarations'
// zod schemas in src/api (the same ones the server validates with and /openapi.json documents).
import type { z } from 'zod';
import type { deleteFinetuneResponse, finetuneDetails, finetuneRequestSchema, finetuneSubmitResponse } from '../api/finetune-schemas.ts';
import type { BaseEndpoint, FinetunedEndpoint, InferenceEndpoint, InferenceRequest } from '../api/inference-schemas.ts';
import type { resultResponse, submitResponse, taskStatus } from '../api/result-schemas.ts';

export type { BaseEndpoint, FinetunedEndpoint, InferenceEndpoint, InferenceRequest };

export type TaskStatus = z.output<typeof taskStatus>;
type FinetuneInputs = z.input<typeof finetuneRequestSchema>;
export type FinetuneMode = FinetuneInputs['mode'];

/** POST /v1/finetune without file_data (the SDK zips and encodes it); mode defaults to general, as in the seed client. */
export type FinetuneParams = Omit<FinetuneInputs, 'file_data' | 'mode'> & { mode?: FinetuneMode };

export type SubmitResponse = z.output<typeof submitResponse>;
export type FinetuneSubmitResponse = z.output<typeof finetuneSubmitResponse>;
/** A Ready generation's result: `sample` is the signed image URL (10 minutes). */
export interface GenerationOutput {
  sample: string;
  prompt: string;
  seed: number;
  start_time: number;
  end_time: number;
  duration: number;
  details?: Record<string, unknown>;
}

/** A Ready finetune's result. */
export interface FinetuneOutput {
  finetune_id: string;
}

type TaskFields = Omit<z.output<typeof resultResponse>, 'status' | 'result'>;

/** get_result, discriminated on status: only a Ready task has a result. */
export type TaskResult<R = GenerationOutput | FinetuneOutput> =
  | (TaskFields & { status: 'Ready'; result: R })
  | (TaskFields & { status: Exclude<TaskStatus, 'Ready'>; result?: null });

export type ReadyTask<R = GenerationOutput | FinetuneOutput> = Extract<TaskResult<R>, { status: 'Ready' }>;
export type FinetuneDetails = z.output<typeof finetuneDetails>;
export type DeleteResponse = z.output<typeof deleteFinetuneResponse>;

/** A finetuned endpoint's fields without finetune_id (the SDK's first argument), plus which endpoint. */
export type FinetuneInferenceParams<E extends FinetunedEndpoint> = Omit<InferenceRequest<E>, 'finetune_id'> & { endpoint?: E };
