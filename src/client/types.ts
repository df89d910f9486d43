// Wire types of the BFL finetuning API as fluxtune serves it (see /docs or /openapi.json).

export type FinetuneMode = 'general' | 'character' | 'style' | 'product';
export type TaskStatus = 'Pending' | 'Ready' | 'Error' | 'Request Moderated' | 'Content Moderated' | 'Task not found';

export interface FinetuneParams {
  finetune_comment: string;
  mode?: FinetuneMode;
  trigger_word?: string;
  iterations?: number;
  learning_rate?: number | null;
  captioning?: boolean;
  priority?: 'speed' | 'quality' | 'high_res_only';
  finetune_type?: 'full' | 'lora';
  lora_rank?: 16 | 32;
  webhook_url?: string;
  webhook_secret?: string;
}

export interface SubmitResponse {
  id: string;
  polling_url?: string;
  status?: string;
  webhook_url?: string;
}

export interface FinetuneSubmitResponse extends SubmitResponse {
  finetune_id: string;
}

export interface TaskResult {
  id: string;
  status: TaskStatus;
  result: Record<string, unknown> | null;
  progress: number | null;
  details: Record<string, unknown> | null;
  preview?: string | null;
}

export interface FinetuneDetails {
  finetune_comment: string;
  trigger_word: string;
  mode: FinetuneMode;
  finetune_type: 'full' | 'lora';
  lora_rank: number;
  iterations: number;
  learning_rate: number;
  priority: string;
  captioning: boolean;
  timestamp: string;
  status?: TaskStatus;
  progress?: number | null;
  image_count?: number;
  captions?: { file: string; caption: string; source: string }[] | null;
  training_seconds?: number | null;
  region?: string;
}

export interface DeleteResponse {
  status: string;
  message: string;
  deleted_finetune_id: string;
  timestamp: string;
}

export type InferenceEndpoint =
  | 'flux-pro-1.1-ultra-finetuned'
  | 'flux-pro-finetuned'
  | 'flux-pro-1.1-ultra'
  | 'flux-pro'
  | (string & {});

/** Fields of the generation routes; which apply depends on the endpoint. */
export interface InferenceParams {
  prompt?: string;
  seed?: number;
  width?: number;
  height?: number;
  aspect_ratio?: string;
  steps?: number;
  guidance?: number;
  safety_tolerance?: number;
  output_format?: 'jpeg' | 'png';
  prompt_upsampling?: boolean;
  image_prompt?: string;
  image_prompt_strength?: number;
  raw?: boolean;
  interval?: number;
  webhook_url?: string;
  webhook_secret?: string;
  [extra: string]: unknown;
}
