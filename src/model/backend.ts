// The one small interface through which the service uses the model (DESIGN.md §2).
// The service knows nothing of graphs or weights; the model knows nothing of HTTP or the database.
// Everything crossing this boundary is plain data, so a worker thread or a remote GPU worker
// can implement it by message passing.

export type FinetuneMode = 'general' | 'character' | 'style' | 'product';
export type Priority = 'speed' | 'quality' | 'high_res_only';
export type FinetuneType = 'full' | 'lora';

/** An RGB image, 8 bits per channel, row-major, no alpha. */
export interface RgbImage {
  width: number;
  height: number;
  /** length = width * height * 3 */
  data: Uint8Array;
}

export interface TrainingExample {
  image: RgbImage;
  /** The final caption used for training (trigger word already placed per mode). */
  caption: string;
}

export interface TrainRequest {
  /** Captions already carry the trigger word where the mode puts it (src/dataset/trigger-word.ts). */
  examples: TrainingExample[];
  iterations: number;
  learningRate: number;
  priority: Priority;
  finetuneType: FinetuneType;
  loraRank: 16 | 32;
  seed: number;
}

/** Opaque, resumable trainer state. The service persists it as a blob and hands it back after a crash. */
export interface TrainCheckpoint {
  step: number;
  bytes: Uint8Array;
}

export interface TrainProgress {
  step: number;
  loss: number;
  /** extracting: a full finetune's ΔW being factored into its LoRA, after the last step. */
  phase?: 'training' | 'extracting';
}

export interface TrainHooks {
  /** progress in [0, 1] over training and, for full finetunes, the LoRA extraction after it; called at least every few steps. */
  onProgress?(progress: number, info: TrainProgress): void;
  /** A preview sample (PNG bytes) rendered every N steps. */
  onPreview?(png: Uint8Array, step: number): void | Promise<void>;
  /** Called every N steps; persist it and pass it back as `resumeFrom` after a restart. */
  onCheckpoint?(checkpoint: TrainCheckpoint): void | Promise<void>;
  resumeFrom?: TrainCheckpoint;
  signal?: AbortSignal;
}

export interface TrainResult {
  /** The finetune as a LoRA in BFL's layout (safetensors bytes). */
  lora: Uint8Array;
  steps: number;
  finalLoss: number;
  /** full finetunes: relative Frobenius error of the rank-r extraction of ΔW. */
  extractionError?: number;
  trainingSeconds: number;
}

export interface GenerateRequest {
  prompt: string;
  width: number;
  height: number;
  steps: number;
  guidance: number;
  seed: number;
  /** LoRA safetensors bytes (BFL layout) and its strength 0–2; absent = base model. */
  lora?: { bytes: Uint8Array; strength: number; cacheKey?: string };
  /** img2img: init image and strength in [0, 1] (1 = ignore the image). */
  imagePrompt?: { image: RgbImage; strength: number };
  /** The structure a canny, depth or fill request imposes; its image is at the output size (width × height). */
  control?: StructuralControl;
  signal?: AbortSignal;
  onProgress?(progress: number): void;
}

/**
 * BFL's FLUX.1 Canny / Depth / Fill conditioning. Canny and depth take a photo and derive the
 * edge or depth map from it, unless `preprocessed` says the image already is that map (BFL's
 * `preprocessed_image`). Fill repaints where the mask is white and keeps the rest.
 */
export type StructuralControl =
  | { kind: 'canny'; image: RgbImage; preprocessed: boolean; lowThreshold: number; highThreshold: number }
  | { kind: 'depth'; image: RgbImage; preprocessed: boolean }
  | {
      kind: 'fill';
      image: RgbImage;
      /** width·height bytes of the image: 255 = repaint, 0 = keep, values between blend. */
      mask: Uint8Array;
    };

export type StructuralKind = StructuralControl['kind'];

export interface GenerateResult {
  /** At the native resolution, or (fill) already at the requested size with the kept pixels untouched. */
  image: RgbImage;
  /** The model's native resolution used before any resize to the requested size. */
  nativeWidth: number;
  nativeHeight: number;
}

/**
 * The request can never succeed as sent (an unreadable LoRA file, say): retrying is pointless.
 * Recognised by its name, so it survives the trip from a worker thread or a remote worker.
 */
export class InvalidModelInput extends Error {
  override readonly name = 'InvalidModelInput';
}

export interface ModelBackend {
  /** Human name of the base model, e.g. "flux-mini". */
  readonly name: string;
  train(request: TrainRequest, hooks?: TrainHooks): Promise<TrainResult>;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /** Built-in captioner: what it can say of each image (no trigger word). */
  caption(images: RgbImage[], candidates?: string[]): Promise<ImageCaption[]>;
}

/**
 * What a captioner says of one image, without the trigger word. A captioner names a subject only when
 * it is confident; otherwise it says only what it measured (`layout`, `background`), so that a
 * finetune never binds its trigger word to a wrong word.
 */
export interface ImageCaption {
  /** A caption that names the subject ("a cat on a red background"); null where the captioner is not sure what it shows. */
  text: string | null;
  /** The subject's place and the background, without naming it ("on the left, red background"); null where not measurable. */
  layout: string | null;
  /** The background's colour name where the background is plain; null for busy or unnamed backgrounds. */
  background: string | null;
  /** 0–1: the captioner's confidence in `text` (≥ 0.5 where it names a subject); null where it cannot say (an external vision model). */
  confidence: number | null;
}

// ---------------------------------------------------------------- LoRA files in and out
// GET /v1/finetune_weights and POST /v1/finetune_import. Pure functions over bytes that run where
// they are called: an API-only node (`serve --no-worker`) holds no model, and needs none to
// convert a file or check one against the base model's geometry.

/** Layouts other tools load: src/model/lora/exchange.ts says which loader reads which. */
export type LoraFormat = 'comfyui' | 'kohya' | 'diffusers' | 'bfl';
export type LoraDtype = 'bf16' | 'fp16' | 'fp32';

/** What an exported file says about its finetune (kohya's ss_* metadata and ours). */
export interface FinetuneLoraInfo {
  finetuneId: string;
  comment: string;
  triggerWord: string;
  mode: string;
  finetuneType: string;
  iterations: number;
  learningRate: number;
  priority: string;
  imageCount: number;
  /** ISO 8601 */
  createdAt: string;
  /** Imported, not trained here: no training parameters are claimed. */
  imported: boolean;
}

export interface ImportedLora {
  /** The LoRA in our stored layout (BFL keys, F32). */
  bytes: Uint8Array;
  /** The layout the file came in. */
  layout: 'bfl' | 'kohya' | 'diffusers';
  /** The largest module rank. */
  rank: number;
  modules: number;
  /** Recorded in the file's metadata, if it says. */
  triggerWord?: string;
  title?: string;
}

/** A LoRA file that cannot be used: unreadable, an unknown layout, or not for this base model. The message names the key. */
export class InvalidLoraFile extends Error {
  override readonly name = 'InvalidLoraFile';
}

/**
 * The served base model LoRAs are checked against and described with: the FLUX.1 folder of
 * FLUXTUNE_MODEL (headers only), else the shipped flux-mini — what src/model/index.ts serves by
 * default. A backend plugged in with FLUXTUNE_BACKEND_MODULE runs in another thread or process,
 * out of reach of these functions.
 */
async function servedBase() {
  const dir = process.env.FLUXTUNE_MODEL?.trim();
  if (dir) {
    const { flux1LoraBase } = await import('./flux1/lora-base.ts');
    return flux1LoraBase(dir);
  }
  const { fluxMiniLoraBase } = await import('./flux-mini/lora-base.ts');
  return fluxMiniLoraBase();
}

/** A finetune's stored LoRA as `format` in `dtype`, with its description in `__metadata__`. Throws InvalidLoraFile. */
export async function exportFinetuneLora(stored: Uint8Array, o: { format: LoraFormat; dtype: LoraDtype; finetune: FinetuneLoraInfo }): Promise<Uint8Array> {
  const { exportLora } = await import('./lora/exchange.ts');
  return exportLora(stored, { format: o.format, dtype: o.dtype, info: o.finetune, base: await servedBase() });
}

/** A LoRA file in any supported layout, checked against the served base model. Throws InvalidLoraFile naming the key. */
export async function importFinetuneLora(file: Uint8Array): Promise<ImportedLora> {
  const { importLora } = await import('./lora/exchange.ts');
  return importLora(file, await servedBase());
}
