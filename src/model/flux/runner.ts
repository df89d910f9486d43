// An inference session over a FLUX graph of one shape: base weights frozen into the model
// (ORT prepacks them), LoRA factors and strength fed per call so strength 0–2 and LoRA swaps
// need no rebuild.

import type { DType } from '../../engine/dtype.ts';
import { Session } from '../../engine/session.ts';
import { loraFeeds } from '../lora/feeds.ts';
import type { Lora } from '../lora/lora.ts';
import type { FloatArray, Tensors } from '../tensors.ts';
import { buildFluxGraph, type FluxGraph, type FluxShape } from './build.ts';
import type { FluxParams } from './config.ts';
import { type FluxBatch, fluxFeeds } from './feeds.ts';
import type { LoraSpec } from './params.ts';
import type { Prediction } from './prediction.ts';
import { frozenWeights } from './weights.ts';

export interface RunnerOptions {
  params: FluxParams;
  weights: Tensors;
  shape: FluxShape;
  dtype?: DType;
  /** Build LoRA branches on these Linears (fed at run time). */
  lora?: LoraSpec;
  prediction?: Prediction;
  threads?: number;
}

export interface AppliedLora {
  lora: Lora;
  strength: number;
}

export class FluxRunner {
  private constructor(
    readonly flux: FluxGraph,
    private readonly session: Session,
  ) {}

  static async create(o: RunnerOptions): Promise<FluxRunner> {
    const flux = buildFluxGraph(o.params, o.shape, { dtype: o.dtype, lora: o.lora, prediction: o.prediction });
    const session = await Session.create({
      outputs: { out: flux.out },
      frozen: frozenWeights(flux.store.params, o.weights),
      threads: o.threads,
    });
    return new FluxRunner(flux, session);
  }

  get shape(): FluxShape {
    return this.flux.shape;
  }

  /** The velocity prediction [B, L_img, out_channels]; no LoRA = the base model. */
  async forward(batch: FluxBatch, lora?: AppliedLora): Promise<FloatArray> {
    const { params, shape, dtype, store } = this.flux;
    const feeds = { ...fluxFeeds(params, shape, dtype, batch), ...loraFeeds(store, lora?.lora, lora?.strength ?? 0) };
    return (await this.session.run(feeds)).out as FloatArray;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
