import type { ControlKind, InferenceEndpoint } from '../../api/inference-schemas.ts';

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
  /**
   * The structural routes: what the output follows. width × height are then the control image's size
   * (the input's, at most 1 MP), and the blobs hold it and (fill) the mask at that size.
   */
  control_kind?: ControlKind;
  control_blob?: string;
  mask_blob?: string;
  /** canny / depth: control_blob already is the edge or depth map (preprocessed_image was sent). */
  preprocessed?: boolean;
  canny_low_threshold?: number;
  canny_high_threshold?: number;
  /** Accepted for compatibility, recorded, and not acted on (see API.md "Our choices"). */
  safety_tolerance: number;
  prompt_upsampling: boolean;
}
