// flux-mini behind the service's ModelBackend interface: the shipped base model, finetuned by
// LoRA or full training, sampled with classifier-free guidance at the model's native token budget
// (the service resizes to the requested size). One inference session per token grid serves the
// base and every LoRA: the LoRA factors and strength are fed, never merged.

import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import {
  type GenerateRequest,
  type GenerateResult,
  type ImageCaption,
  InvalidModelInput,
  type ModelBackend,
  type RgbImage,
  type StructuralKind,
  type TrainHooks,
  type TrainRequest,
  type TrainResult,
} from '../backend.ts';
import { bucketFor, fitImage, imageIds, imageToTokens, type TokenGrid, tokensToImage } from '../codec/patches.ts';
import { pixelCodec } from '../conditioning/condition.ts';
import { controlParams, readAdapter, variantWeights } from '../conditioning/control-variant.ts';
import type { FluxParams } from '../flux/config.ts';
import { type FluxRunner, FluxRunner as Runner } from '../flux/runner.ts';
import { readLora } from '../lora/files.ts';
import type { Lora } from '../lora/lora.ts';
import { seededNoise } from '../sampling/noise.ts';
import { sample } from '../sampling/sampler.ts';
import type { Tensors } from '../tensors.ts';
import { captionImages } from './captioner.ts';
import { type FluxMiniConfig, loadFluxMiniConfig, MODEL_DIR, scheduleShift } from './config.ts';
import { finetune } from './finetune.ts';
import { INFERENCE_LORA } from './lora-base.ts';
import { conditionTokens, type Preprocessors, structuralOutput } from './structural.ts';
import { TextEncoderSession } from './text-session.ts';
import { type FluxMiniWeights, loadFluxMiniWeights } from './weights.ts';

export interface FluxMiniOptions {
  config?: FluxMiniConfig;
  weights?: FluxMiniWeights;
  threads?: number;
  /** Where the control adapters are read from (default the model folder): a bench can try a new one before it ships. */
  adapterDir?: URL;
}

/** A structural variant: the base with its adapter merged in and `img_in` widened (conditioning/control-variant.ts). */
interface Variant {
  params: FluxParams;
  weights: Tensors;
}

export class FluxMiniBackend implements ModelBackend {
  readonly name = 'flux-mini';
  private readonly runners = new Map<string, Promise<FluxRunner>>();
  private readonly loras = new Map<string, Lora>();
  private readonly variants = new Map<StructuralKind, Variant>();
  private preprocessors: Promise<Preprocessors> | undefined;

  private constructor(
    readonly config: FluxMiniConfig,
    readonly weights: FluxMiniWeights,
    readonly text: TextEncoderSession,
    private readonly threads?: number,
    private readonly adapterDir: URL = MODEL_DIR,
  ) {}

  static async load(o: FluxMiniOptions = {}): Promise<FluxMiniBackend> {
    const config = o.config ?? loadFluxMiniConfig();
    const weights = o.weights ?? loadFluxMiniWeights();
    const text = await TextEncoderSession.create(config, weights.text, o.threads);
    return new FluxMiniBackend(config, weights, text, o.threads, o.adapterDir);
  }

  /** The token grid for a requested size: the native token budget at the requested aspect ratio. */
  gridFor(width: number, height: number, tokens = (this.config.codec.native_size / this.config.codec.patch) ** 2): TokenGrid {
    return bucketFor(width, height, tokens, this.config.codec.patch);
  }

  /** The canny/depth/fill variant; InvalidModelInput where its adapter does not ship. */
  variant(kind: StructuralKind): Variant {
    let v = this.variants.get(kind);
    if (!v) {
      const adapter = readAdapter(this.adapterDir, kind);
      if (!adapter) throw new InvalidModelInput(`flux-mini has no ${kind} variant: models/flux-mini/control-${kind}.safetensors is missing`);
      const params = controlParams(this.config.flux, kind, pixelCodec(this.config.codec.patch));
      v = { params, weights: variantWeights(this.weights.flux, adapter, params) };
      this.variants.set(kind, v);
    }
    return v;
  }

  /** Batch 2 runs one prompt with classifier-free guidance; the captioner asks for wider batches. */
  runnerFor(grid: TokenGrid, batch = 2, kind?: StructuralKind): Promise<FluxRunner> {
    const key = `${grid.rows}x${grid.cols}x${batch}${kind ? `:${kind}` : ''}`;
    let r = this.runners.get(key);
    if (!r) {
      const model = kind ? this.variant(kind) : { params: this.config.flux, weights: this.weights.flux };
      r = Runner.create({
        params: model.params,
        weights: model.weights,
        shape: { batch, imgTokens: grid.rows * grid.cols, txtTokens: this.config.text_encoder.max_bytes / this.config.text_encoder.merge },
        lora: INFERENCE_LORA,
        prediction: this.config.prediction,
        threads: this.threads,
      });
      this.runners.set(key, r);
    }
    return r;
  }

  private lora(bytes: Uint8Array, cacheKey?: string): Lora {
    const hit = cacheKey ? this.loras.get(cacheKey) : undefined;
    if (hit) return hit;
    let lora: Lora;
    try {
      lora = readLora(bytes, this.config.flux);
    } catch (err) {
      throw new InvalidModelInput(`the finetune's LoRA file cannot be read: ${(err as Error).message}`);
    }
    if (cacheKey) this.loras.set(cacheKey, lora);
    return lora;
  }

  /** Samples one image on `grid`; `lora` given as parsed modules (training previews) or bytes. */
  async sampleImage(req: GenerateRequest, grid: TokenGrid, lora?: Lora): Promise<RgbImage> {
    const control = req.control;
    const runner = await this.runnerFor(grid, 2, control?.kind);
    const imgCond = control ? await conditionTokens(control, grid, await this.preprocess()) : undefined;
    const tokens = grid.rows * grid.cols;
    const channels = this.config.flux.out_channels;
    const cond = await this.text.encode(req.prompt);
    const uncond = await this.text.encode('');
    const applied = lora ?? (req.lora ? this.lora(req.lora.bytes, req.lora.cacheKey) : undefined);
    let init: { latents: Float32Array; strength: number } | undefined;
    if (req.imagePrompt) {
      const fitted = await fitImage(req.imagePrompt.image, grid.cols * grid.patch, grid.rows * grid.patch);
      init = { latents: imageToTokens(fitted, grid.patch), strength: req.imagePrompt.strength };
    }
    const x = await sample({
      runner,
      cond,
      cfg: { scale: this.guidanceScale(req), uncond, rescale: this.config.sampling.cfg_rescale ?? 0 },
      imgCond,
      imgIds: imageIds(grid),
      noise: seededNoise(req.seed, tokens * channels),
      steps: req.steps,
      schedule: scheduleShift(this.config),
      lora: applied ? { lora: applied, strength: req.lora?.strength ?? 1 } : undefined,
      init,
      signal: req.signal,
      onStep: (done, total) => req.onProgress?.(done / total),
    });
    return tokensToImage(x, grid);
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const grid = this.gridFor(req.width, req.height);
    const image = await this.sampleImage(req, grid);
    const out = req.control ? await structuralOutput(image, req.control, req.width, req.height) : image;
    return { image: out, nativeWidth: image.width, nativeHeight: image.height };
  }

  /** The CFG scale: the request's guidance, or for a structural route its guidance relative to BFL's default there (config.ts `control`). */
  private guidanceScale(req: GenerateRequest): number {
    if (!req.control) return req.guidance;
    const reference = this.config.control?.[req.control.kind]?.reference_guidance;
    return reference ? (this.config.sampling.guidance * req.guidance) / reference : req.guidance;
  }

  private preprocess(): Promise<Preprocessors> {
    this.preprocessors ??= (async () => {
      const { cannyControlImage } = await import('../conditioning/canny.ts');
      const { DepthEstimator, depthControlImage } = await import('../conditioning/depth-estimator.ts');
      let estimator: ReturnType<typeof DepthEstimator.load> | undefined;
      return {
        canny: cannyControlImage,
        depth: async (img) => {
          estimator ??= DepthEstimator.load(this.threads);
          return depthControlImage(await estimator, img);
        },
      };
    })();
    return this.preprocessors;
  }

  async train(req: TrainRequest, hooks?: TrainHooks): Promise<TrainResult> {
    // Previews at the native size, what the finetune will generate (the low size hides what a user checks: the outline).
    const previewGrid = this.gridFor(1, 1);
    return finetune(
      {
        config: this.config,
        weights: this.weights.flux,
        text: this.text,
        threads: this.threads,
        preview: async (lora, caption) => {
          const img = await this.sampleImage(
            { prompt: caption, width: 1, height: 1, steps: 12, guidance: this.config.sampling.guidance, seed: req.seed },
            previewGrid,
            lora,
          );
          return new Uint8Array(
            await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
              .png()
              .toBuffer(),
          );
        },
      },
      req,
      hooks,
    );
  }

  async caption(images: RgbImage[], candidates?: string[]): Promise<ImageCaption[]> {
    return captionImages(this, images, candidates ?? vocabulary());
  }
}

let vocab: string[] | undefined;
/** The concepts flux-mini was pretrained on (written by the pretraining script). */
export function vocabulary(): string[] {
  vocab ??= (JSON.parse(readFileSync(new URL('vocabulary.json', MODEL_DIR), 'utf8')) as { concepts: string[] }).concepts;
  return vocab;
}
