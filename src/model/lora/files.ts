// LoRA files: read any supported layout (detected from the keys) into BFL semantics, and
// write BFL (our storage format), kohya or diffusers/PEFT safetensors.

import type { StDType } from '../../engine/safetensors.ts';
import type { FluxParams } from '../flux/config.ts';
import { readTensors, type Tensors, writeTensors } from '../tensors.ts';
import { isBflLayout, loraFromBfl, loraToBfl } from './bfl.ts';
import { diffusersParts } from './diffusers-names.ts';
import { isKohyaLayout, kohyaName, loraFromKohya, loraToKohya } from './kohya.ts';
import { fluxLinears, type Lora } from './lora.ts';
import { isPeftLayout, loraFromPeft, loraToPeft } from './peft.ts';

export type LoraLayout = 'bfl' | 'kohya' | 'peft';

export function detectLoraLayout(keys: Iterable<string>): LoraLayout {
  const list = [...keys];
  if (isKohyaLayout(list)) return 'kohya';
  if (isPeftLayout(list)) return 'peft';
  if (isBflLayout(list)) return 'bfl';
  throw new Error(`unrecognised LoRA layout (keys like ${list.slice(0, 2).join(', ')})`);
}

/** The key a module's down factor has in a file of `layout`: what error messages name. */
export function downKey(layout: LoraLayout, path: string, outFeatures: number, params: FluxParams): string {
  switch (layout) {
    case 'bfl':
      return `${path}.lora_A.weight`;
    case 'kohya':
      return `${kohyaName(path)}.lora_down.weight`;
    case 'peft':
      return `transformer.${diffusersParts(path, outFeatures, params)[0]!.name}.lora_A.weight`;
  }
}

/** A LoRA's tensors (any supported layout) onto the Linears of `params`, every module checked against them. */
export function readLoraTensors(tensors: Tensors, metadata: Record<string, string>, params: FluxParams): { lora: Lora; layout: LoraLayout; extras: Tensors } {
  const linears = fluxLinears(params);
  const layout = detectLoraLayout(tensors.keys());
  let lora: Lora;
  let extras: Tensors = new Map();
  switch (layout) {
    case 'bfl':
      ({ lora, extras } = loraFromBfl(tensors));
      break;
    case 'kohya':
      lora = loraFromKohya(tensors, linears);
      break;
    case 'peft':
      lora = loraFromPeft(tensors, linears, params, metadata);
      break;
  }
  for (const [path, m] of lora) {
    const shape = linears.get(path);
    const key = () => downKey(layout, path, m.outFeatures, params);
    if (!shape) throw new Error(`LoRA: '${key()}' is not on a Linear of this model`);
    if (shape.inFeatures !== m.inFeatures || shape.outFeatures !== m.outFeatures) {
      throw new Error(`LoRA: '${key()}' is ${m.outFeatures}×${m.inFeatures}, the model's Linear is ${shape.outFeatures}×${shape.inFeatures}`);
    }
  }
  return { lora, layout, extras };
}

/** Reads a LoRA file of any supported layout onto the Linears of `params`. */
export function readLora(bytes: Uint8Array, params: FluxParams): Lora {
  const { tensors, metadata } = readTensors(bytes);
  return readLoraTensors(tensors, metadata, params).lora;
}

export interface WriteLoraOptions {
  /** Stored dtype of every tensor (default F32). */
  dtype?: StDType;
  /** Added to the layout's own `__metadata__` entries. */
  metadata?: Record<string, string>;
}

/** The tensors and layout-specific metadata of `lora` in `layout` (PEFT splits fused projections by `params`, else by each module's shape). */
export function loraLayoutTensors(lora: Lora, layout: LoraLayout, params?: FluxParams): { tensors: Tensors; metadata: Record<string, string> } {
  switch (layout) {
    case 'bfl':
      return { tensors: loraToBfl(lora), metadata: { format: 'bfl-flux-lora' } };
    case 'kohya':
      return { tensors: loraToKohya(lora), metadata: { ss_network_module: 'networks.lora_flux' } };
    case 'peft':
      return loraToPeft(lora, params);
  }
}

export function writeLora(lora: Lora, layout: LoraLayout = 'bfl', params?: FluxParams, o: WriteLoraOptions = {}): Uint8Array {
  const { tensors, metadata } = loraLayoutTensors(lora, layout, params);
  return writeTensors(tensors, o.dtype ?? 'F32', { ...metadata, ...o.metadata });
}
