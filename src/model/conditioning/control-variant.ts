// The control variants of flux-mini (FLUX.1 Canny / Depth / Fill): the base transformer with
// `img_in` widened to take the condition after the noisy latents, plus a LoRA on the block Linears,
// as BFL's FLUX.1-Canny/Depth-dev-lora are. The adapter file holds the whole widened `img_in` and
// the LoRA; the variant's weights are the base with the adapter merged in, so a user's finetune
// LoRA (trained on the base) is fed on top at its strength, and strength 0 is the variant itself.

import { existsSync, readFileSync } from 'node:fs';
import type { StructuralKind } from '../backend.ts';
import type { FluxParams } from '../flux/config.ts';
import { readLoraTensors } from '../lora/files.ts';
import { mergeLora } from '../lora/merge.ts';
import { readTensors, type Tensor, type Tensors } from '../tensors.ts';
import { conditionChannels, type ImageCodec } from './condition.ts';

export const STRUCTURAL_KINDS: readonly StructuralKind[] = ['canny', 'depth', 'fill'];

export const adapterFile = (kind: StructuralKind) => `control-${kind}.safetensors`;
export const adapterStateFile = (kind: StructuralKind) => `control-${kind}.json`;

/** The variant's FluxParams: the base with the condition's channels added to the input. */
export function controlParams(base: FluxParams, kind: StructuralKind, codec: Pick<ImageCodec, 'channels' | 'factor' | 'patch'>): FluxParams {
  return { ...base, in_channels: base.out_channels + conditionChannels(kind, codec) };
}

/** `img_in.weight` [H, in] widened to [H, inChannels] with zero columns: the condition starts with no effect. */
export function widenImgIn(weight: Tensor, inChannels: number): Tensor {
  const [hidden, old] = weight.shape as [number, number];
  if (inChannels < old) throw new Error(`widenImgIn: cannot narrow img_in from ${old} to ${inChannels} inputs`);
  const data = new Float32Array(hidden * inChannels);
  for (let o = 0; o < hidden; o++) data.set(weight.data.subarray(o * old, (o + 1) * old), o * inChannels);
  return { shape: [hidden, inChannels], data };
}

/** The variant's initial weights: the base exactly, with zero columns for the condition. */
export function initialVariantWeights(base: Tensors, params: FluxParams): Tensors {
  const out: Tensors = new Map(base);
  out.set('img_in.weight', widenImgIn(base.get('img_in.weight')!, params.in_channels));
  return out;
}

/** Base weights + adapter (widened img_in, merged LoRA) → the variant's weights. Throws naming what does not fit. */
export function variantWeights(base: Tensors, adapter: Tensors, params: FluxParams): Tensors {
  const w = adapter.get('img_in.weight');
  if (!w || w.shape[1] !== params.in_channels) throw new Error(`control adapter: img_in.weight must be [${params.hidden_size}, ${params.in_channels}]`);
  const loraTensors: Tensors = new Map([...adapter].filter(([k]) => k.includes('.lora_')));
  const { lora } = readLoraTensors(loraTensors, {}, params);
  const out = mergeLora(base, lora, 1);
  out.set('img_in.weight', { shape: [...w.shape], data: Float32Array.from(w.data) });
  const b = adapter.get('img_in.bias');
  if (b) out.set('img_in.bias', { shape: [...b.shape], data: Float32Array.from(b.data) });
  return out;
}

/** The shipped adapter of `kind` in `modelDir`, or undefined when none ships. */
export function readAdapter(modelDir: URL, kind: StructuralKind): Tensors | undefined {
  const url = new URL(adapterFile(kind), modelDir);
  if (!existsSync(url)) return undefined;
  return readTensors(readFileSync(url)).tensors;
}
