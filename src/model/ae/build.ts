// Encode and decode graphs for one static image size. They are separate graphs (a pipeline
// encodes a condition once and decodes once per sample, and a training loss may need only one
// half); both declare every AE parameter, and a session keeps only those its outputs reach.

import type { DType } from '../../engine/dtype.ts';
import { Graph, type Value } from '../../engine/graph.ts';
import { AutoEncoder } from './autoencoder.ts';
import { type AutoEncoderParams, latentFactor } from './config.ts';
import { AeParamStore } from './params.ts';

/** Batch and image size in pixels; height and width must divide by the latent factor. */
export interface AeShape {
  batch: number;
  height: number;
  width: number;
}

/** Names of the fed inputs and the outputs. */
export const AE_IO = { image: 'image', z: 'z', moments: 'moments', noise: 'noise' } as const;

export interface AeGraph {
  params: AutoEncoderParams;
  shape: AeShape;
  dtype: DType;
  graph: Graph;
  store: AeParamStore;
  model: AutoEncoder;
  /** The fed data input (image or z). */
  input: Value;
  outputs: Record<string, Value>;
}

export interface AeBuildOptions {
  dtype?: DType;
  /** Encode graphs only: sample the posterior with a fed `noise` input instead of its mean. */
  sample?: boolean;
}

export function latentShape(params: AutoEncoderParams, shape: AeShape): [number, number, number, number] {
  const f = latentFactor(params);
  if (shape.height % f || shape.width % f) throw new Error(`autoencoder: ${shape.height}×${shape.width} does not divide by its factor ${f}`);
  return [shape.batch, params.z_channels, shape.height / f, shape.width / f];
}

function setup(params: AutoEncoderParams, shape: AeShape, dtype: DType) {
  const graph = new Graph();
  const store = new AeParamStore(graph, dtype);
  return { graph, store, model: new AutoEncoder(params, store), latent: latentShape(params, shape) };
}

/** image [B, in_channels, H, W] → `z` (scaled latent) and `moments` (mean ‖ logvar, unscaled). */
export function buildAeEncodeGraph(params: AutoEncoderParams, shape: AeShape, o: AeBuildOptions = {}): AeGraph {
  const dtype = o.dtype ?? 'float32';
  const { graph, store, model, latent } = setup(params, shape, dtype);
  const input = graph.input(AE_IO.image, [shape.batch, params.in_channels, shape.height, shape.width], dtype);
  const moments = graph.scope('encoder', () => model.encoder.forward(input));
  const noise = o.sample ? graph.input(AE_IO.noise, latent, dtype) : undefined;
  const z = model.scale(model.reg.forward(moments, noise));
  return { params, shape, dtype, graph, store, model, input, outputs: { [AE_IO.z]: z, [AE_IO.moments]: moments } };
}

/** z [B, z_channels, H/f, W/f] (scaled, as the flow model produces it) → `image` [B, out_ch, H, W]. */
export function buildAeDecodeGraph(params: AutoEncoderParams, shape: AeShape, o: Omit<AeBuildOptions, 'sample'> = {}): AeGraph {
  const dtype = o.dtype ?? 'float32';
  const { graph, store, model, latent } = setup(params, shape, dtype);
  const input = graph.input(AE_IO.z, latent, dtype);
  const image = graph.scope('decoder', () => model.decode(input));
  return { params, shape, dtype, graph, store, model, input, outputs: { [AE_IO.image]: image } };
}
