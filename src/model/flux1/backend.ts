// A real FLUX.1 model (FLUXTUNE_MODEL=<dir>, checkpoint-folder.ts) behind the service's
// ModelBackend: text-to-image (and Canny/Depth/Fill on those tool models) at the requested size (rounded up to 16 px, as BFL's get_noise does;
// the service resizes), T5 + CLIP conditioning, the model's own schedule and distilled guidance.
// Sessions are built per image size and only the latest is kept: the transformer's weights are
// re-read from the checkpoint for each build rather than held in JS beside ONNX Runtime's copy.
// Every session carries LoRA branches (lora-base.ts), so a finetune's LoRA and its strength are
// fed per request and strength 0 is the base model exactly.

import { latentFactor } from '../ae/config.ts';
import { AeRunner } from '../ae/runner.ts';
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
import { FluxRunner } from '../flux/runner.ts';
import { structuralOutput } from '../flux-mini/structural.ts';
import { readLora } from '../lora/files.ts';
import type { Lora } from '../lora/lora.ts';
import type { Tensors } from '../tensors.ts';
import { type Flux1Folder, openFlux1Folder } from './checkpoint-folder.ts';
import { FLUX1_MODELS, type Flux1Model } from './configs.ts';
import { type LatentGrid, latentGrid, latentNoise } from './latents.ts';
import { FLUX1_INFERENCE_LORA } from './lora-base.ts';
import { checkMemory, estimateMemory, type MemoryEstimate } from './memory.ts';
import { Flux1Pipeline } from './pipeline.ts';
import { flux1Condition } from './structural.ts';
import { Flux1TextEncoders } from './text-conditioning.ts';
import { trainFlux1Lora } from './train-lora.ts';
import { readAll, SafetensorsSource } from './weight-source.ts';

export interface Flux1BackendOptions {
  threads?: number;
}

function textParamCount(dir: string): Iterable<readonly number[]> {
  const shapes: (readonly number[])[] = [];
  for (const [sub, stem] of [
    ['text_encoder', 'model'],
    ['text_encoder_2', 'model'],
  ] as const) {
    const s = SafetensorsSource.openComponent(`${dir}/${sub}`, stem);
    shapes.push(...s.shapes.values());
    s.close();
  }
  return shapes;
}

export class Flux1Backend implements ModelBackend {
  readonly name: string;
  private flux: { tokens: number; runner: Promise<FluxRunner> } | undefined;
  private ae: { key: string; runner: Promise<AeRunner> } | undefined;
  private readonly loras = new Map<string, Lora>();

  private constructor(
    readonly folder: Flux1Folder,
    readonly model: Flux1Model,
    readonly aeWeights: Tensors,
    readonly text: Flux1TextEncoders,
    readonly memory: MemoryEstimate,
    private readonly threads?: number,
  ) {
    this.name = `FLUX.1-${model.variant}`;
  }

  /** Opens `dir`, checks the memory estimate, then loads the autoencoder and text encoders; the transformer loads per image size. */
  static async load(dir: string, o: Flux1BackendOptions = {}): Promise<Flux1Backend> {
    const folder = openFlux1Folder(dir);
    try {
      const model = FLUX1_MODELS[folder.variant];
      const memory = estimateMemory({
        params: folder.params,
        transformer: folder.transformer.shapes.values(),
        ae: folder.ae.shapes.values(),
        text: textParamCount(folder.textEncoders),
        txtTokens: model.t5Tokens,
      });
      checkMemory(memory, `FLUX.1-${folder.variant} (${dir})`);
      const text = await Flux1TextEncoders.load(folder.textEncoders, { t5Tokens: model.t5Tokens, threads: o.threads });
      const widths = text.widths;
      if (widths.txt !== folder.params.context_in_dim || widths.y !== folder.params.vec_in_dim) {
        await text.release();
        throw new Error(
          `${dir}: the text encoders give txt ${widths.txt} and y ${widths.y} wide, the transformer takes ${folder.params.context_in_dim} and ${folder.params.vec_in_dim}`,
        );
      }
      return new Flux1Backend(folder, model, readAll(folder.ae), text, memory, o.threads);
    } catch (err) {
      folder.close();
      throw err;
    }
  }

  gridFor(width: number, height: number): LatentGrid {
    const p = this.folder.aeParams;
    return latentGrid(height, width, p.z_channels, latentFactor(p));
  }

  /** The transformer session for `tokens` image tokens; the previous size's is released first. */
  private fluxRunner(tokens: number): Promise<FluxRunner> {
    if (this.flux?.tokens === tokens) return this.flux.runner;
    const previous = this.flux?.runner;
    const runner = (async () => {
      await previous?.then((r) => r.release()).catch(() => undefined);
      return FluxRunner.create({
        params: this.folder.params,
        weights: readAll(this.folder.transformer),
        shape: { batch: 1, imgTokens: tokens, txtTokens: this.text.txtTokens },
        lora: FLUX1_INFERENCE_LORA,
        threads: this.threads,
      });
    })();
    this.flux = { tokens, runner };
    runner.catch(() => {
      if (this.flux?.runner === runner) this.flux = undefined;
    });
    return runner;
  }

  private aeRunner(height: number, width: number): Promise<AeRunner> {
    const key = `${height}x${width}`;
    if (this.ae?.key === key) return this.ae.runner;
    const previous = this.ae?.runner;
    const runner = (async () => {
      await previous?.then((r) => r.release()).catch(() => undefined);
      return AeRunner.create({ params: this.folder.aeParams, weights: this.aeWeights, shape: { batch: 1, height, width }, threads: this.threads });
    })();
    this.ae = { key, runner };
    runner.catch(() => {
      if (this.ae?.runner === runner) this.ae = undefined;
    });
    return runner;
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    if (req.control && this.model.condition !== req.control.kind) {
      throw new InvalidModelInput(`${this.name} cannot serve ${req.control.kind}: serve FLUX.1-${req.control.kind}-dev (FLUXTUNE_MODEL) for that route`);
    }
    if (!req.control && this.model.condition)
      throw new InvalidModelInput(`${this.name} needs a ${this.model.condition} condition; text-to-image routes cannot use it`);
    if (req.imagePrompt) throw new InvalidModelInput(`${this.name}: image prompts (img2img) on a real FLUX.1 model are not served yet`);
    const grid = this.gridFor(req.width, req.height);
    const f = latentFactor(this.folder.aeParams);
    const [height, width] = [grid.height * f, grid.width * f];
    const cond = await this.text.encode(req.prompt);
    const pipeline = new Flux1Pipeline(await this.fluxRunner(grid.rows * grid.cols), await this.aeRunner(height, width), grid);
    const imgCond = req.control ? await flux1Condition(req.control, pipeline, width, height) : undefined;
    const out = await pipeline.run({
      ...cond,
      noise: latentNoise(grid, req.seed),
      steps: req.steps,
      guidance: req.guidance,
      shift: this.model.shift,
      imgCond,
      lora: req.lora ? { lora: this.lora(req.lora.bytes, req.lora.cacheKey), strength: req.lora.strength } : undefined,
      signal: req.signal,
      onStep: (done, total) => req.onProgress?.(done / total),
    });
    const sample = toRgb(out.image, width, height);
    const image = req.control ? await structuralOutput(sample, req.control, req.width, req.height) : sample;
    return { image, nativeWidth: width, nativeHeight: height };
  }

  private lora(bytes: Uint8Array, cacheKey?: string): Lora {
    const hit = cacheKey ? this.loras.get(cacheKey) : undefined;
    if (hit) return hit;
    let lora: Lora;
    try {
      lora = readLora(bytes, this.folder.params);
    } catch (err) {
      throw new InvalidModelInput(`the finetune's LoRA file cannot be read: ${(err as Error).message}`);
    }
    if (cacheKey) {
      if (this.loras.size >= 8) this.loras.delete(this.loras.keys().next().value!);
      this.loras.set(cacheKey, lora);
    }
    return lora;
  }

  /** A LoRA finetune (train-lora.ts); the inference session is released first, training needs the memory. */
  async train(req: TrainRequest, hooks?: TrainHooks): Promise<TrainResult> {
    const previous = this.flux?.runner;
    this.flux = undefined;
    await previous?.then((r) => r.release()).catch(() => undefined);
    return trainFlux1Lora({ folder: this.folder, aeWeights: this.aeWeights, text: this.text, threads: this.threads }, req, hooks);
  }

  /** FLUX.1 ships no captioner; set CAPTION_API_URL for auto-captions (and training is not possible yet anyway). */
  async caption(): Promise<never> {
    throw new InvalidModelInput(`${this.name} has no built-in captioner: set CAPTION_API_URL (an OpenAI-compatible vision endpoint) or send .txt captions`);
  }

  async release(): Promise<void> {
    await (await this.flux?.runner.catch(() => undefined))?.release();
    await (await this.ae?.runner.catch(() => undefined))?.release();
    await this.text.release();
    this.folder.close();
  }
}

/** BFL's output conversion: clamp to [−1, 1], 127.5·(x + 1), truncated to bytes; [3, H, W] → RGB rows. */
export function toRgb(chw: ArrayLike<number>, width: number, height: number): RgbImage {
  const plane = width * height;
  const data = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.trunc(127.5 * (Math.min(1, Math.max(-1, chw[c * plane + i]!)) + 1));
  }
  return { width, height, data };
}
