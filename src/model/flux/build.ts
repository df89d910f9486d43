// Builds a FLUX graph for one static shape (batch, image tokens, text tokens): the data inputs
// under fixed names, the parameters under their checkpoint keys (params.ts), and the output.
// Inference and training graphs come from here; they differ only in what gets frozen and
// what gradients are taken.

import type { DType } from '../../engine/dtype.ts';
import { Graph, type Value } from '../../engine/graph.ts';
import type { PositionEmbedding } from './attention.ts';
import { type FluxParams, fluxDims } from './config.ts';
import { Flux } from './model.ts';
import { type LoraSpec, ParamStore } from './params.ts';
import { type Prediction, VELOCITY, velocityOutput } from './prediction.ts';

export interface FluxShape {
  batch: number;
  imgTokens: number;
  txtTokens: number;
}

/** Names of the fed data inputs. */
export const FLUX_INPUT = {
  img: 'img',
  txt: 'txt',
  y: 'y',
  timesteps: 'timesteps',
  guidance: 'guidance',
  peCos: 'pe_cos',
  peSin: 'pe_sin',
} as const;

export interface FluxGraph {
  params: FluxParams;
  shape: FluxShape;
  dtype: DType;
  graph: Graph;
  store: ParamStore;
  model: Flux;
  inputs: { img: Value; txt: Value; y: Value; timesteps: Value; guidance?: Value; pe: PositionEmbedding };
  out: Value;
}

export interface BuildOptions {
  dtype?: DType;
  lora?: LoraSpec;
  /** What the last layer predicts (the graph's output is always the velocity); BFL's: velocity. */
  prediction?: Prediction;
}

export function buildFluxGraph(params: FluxParams, shape: FluxShape, opts: BuildOptions = {}): FluxGraph {
  const dtype = opts.dtype ?? 'float32';
  const { batch: B, imgTokens: Li, txtTokens: Lt } = shape;
  const D = fluxDims(params).headDim;
  const graph = new Graph();
  const store = new ParamStore(graph, dtype, opts.lora);
  const inputs = {
    img: graph.input(FLUX_INPUT.img, [B, Li, params.in_channels], dtype),
    txt: graph.input(FLUX_INPUT.txt, [B, Lt, params.context_in_dim], dtype),
    y: graph.input(FLUX_INPUT.y, [B, params.vec_in_dim], dtype),
    timesteps: graph.input(FLUX_INPUT.timesteps, [B], dtype),
    guidance: params.guidance_embed ? graph.input(FLUX_INPUT.guidance, [B], dtype) : undefined,
    pe: {
      cos: graph.input(FLUX_INPUT.peCos, [B, Lt + Li, 1, D], dtype),
      sin: graph.input(FLUX_INPUT.peSin, [B, Lt + Li, 1, D], dtype),
    },
  };
  const model = new Flux(params, store);
  const out = velocityOutput(opts.prediction ?? VELOCITY, model.forward(inputs), inputs.img, inputs.timesteps);
  return { params, shape, dtype, graph, store, model, inputs, out };
}
