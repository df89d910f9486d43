import type { InferenceEndpoint } from '../../api/inference-schemas.ts';

/** A generation request after validation and defaults: what the job runs, stored as tasks.input. */
export interface GenerationInput {
  endpoint: InferenceEndpoint;
  prompt: string;
  seed: number;
  width: number;
  height: number;
  steps: number;
  guidance: number;
  output_format: 'jpeg' | 'png';
  finetune_id?: string;
  finetune_strength?: number;
  image_prompt_blob?: string;
  image_prompt_strength?: number;
  /** Accepted for compatibility, recorded, and not acted on (see API.md "Our choices"). */
  safety_tolerance: number;
  prompt_upsampling: boolean;
}
