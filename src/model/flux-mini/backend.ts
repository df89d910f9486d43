// flux-mini behind the service's ModelBackend interface: the shipped base model, finetuned by
// LoRA or full training, sampled with classifier-free guidance at the model's native token budget
// (the service resizes to the requested size). One inference session per token grid serves the
// base and every LoRA: the LoRA factors and strength are fed, never merged.

import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import {
  type GenerateRequest,
  type GenerateResult,
  InvalidModelInput,
  type ModelBackend,
  type RgbImage,
  type TrainHooks,
  type TrainRequest,
  type TrainResult,
} from '../backend.ts';
import { bucketFor, fitImage, imageIds, imageToTokens, type TokenGrid, tokensToImage } from '../codec/patches.ts';
import { type FluxRunner, FluxRunner as Runner } from '../flux/runner.ts';
import { readLora } from '../lora/files.ts';
import type { Lora } from '../lora/lora.ts';
import { seededNoise } from '../sampling/noise.ts';
import { sample } from '../sampling/sampler.ts';
import { captionImages } from './captioner.ts';
import { type FluxMiniConfig, loadFluxMiniConfig, MODEL_DIR, scheduleShift } from './config.ts';
import { finetune } from './finetune.ts';
import { INFERENCE_LORA } from './lora-base.ts';
import { TextEncoderSession } from './text-session.ts';
import { type FluxMiniWeights, loadFluxMiniWeights } from './weights.ts';

export interface FluxMiniOptions {
  config?: FluxMiniConfig;
  weights?: FluxMiniWeights;
  threads?: number;
}

export class FluxMiniBackend implements ModelBackend {
  readonly name = 'flux-mini';
  private readonly runners = new Map<string, Promise<FluxRunner>>();
  private readonly loras = new Map<string, Lora>();

  private constructor(
    readonly config: FluxMiniConfig,
    readonly weights: FluxMiniWeights,
    readonly text: TextEncoderSession,
    private readonly threads?: number,
  ) {}

  static async load(o: FluxMiniOptions = {}): Promise<FluxMiniBackend> {
    const config = o.config ?? loadFluxMiniConfig();
    const weights = o.weights ?? loadFluxMiniWeights();
    const text = await TextEncoderSession.create(config, weights.text, o.threads);
    return new FluxMiniBackend(config, weights, text, o.threads);
  }

  /** The token grid for a requested size: the native token budget at the requested aspect ratio. */
  gridFor(width: number, height: number, tokens = (this.config.codec.native_size / this.config.codec.patch) ** 2): TokenGrid {
    return bucketFor(width, height, tokens, this.config.codec.patch);
  }

  /** Batch 2 runs one prompt with classifier-free guidance; the captioner asks for wider batches. */
  runnerFor(grid: TokenGrid, batch = 2): Promise<FluxRunner> {
    const key = `${grid.rows}x${grid.cols}x${batch}`;
    let r = this.runners.get(key);
    if (!r) {
      r = Runner.create({
        params: this.config.flux,
        weights: this.weights.flux,
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
    const runner = await this.runnerFor(grid);
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
      cfg: { scale: req.guidance, uncond, rescale: this.config.sampling.cfg_rescale ?? 0 },
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
    if (req.control) throw new InvalidModelInput(`${req.control.kind} conditioning is not available in this build yet`);
    const grid = this.gridFor(req.width, req.height);
    const image = await this.sampleImage(req, grid);
    return { image, nativeWidth: image.width, nativeHeight: image.height };
  }

  async train(req: TrainRequest, hooks?: TrainHooks): Promise<TrainResult> {
    const previewGrid = this.gridFor(1, 1, (this.config.codec.low_size / this.config.codec.patch) ** 2);
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

  async caption(images: RgbImage[], candidates?: string[]): Promise<(string | null)[]> {
    return captionImages(this, images, candidates ?? vocabulary());
  }
}

let vocab: string[] | undefined;
/** The concepts flux-mini was pretrained on (written by the pretraining script). */
export function vocabulary(): string[] {
  vocab ??= (JSON.parse(readFileSync(new URL('vocabulary.json', MODEL_DIR), 'utf8')) as { concepts: string[] }).concepts;
  return vocab;
}
