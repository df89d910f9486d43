// LoRA files: read any supported layout (detected from the keys) into BFL semantics, and
// write BFL (our storage format), kohya or diffusers/PEFT safetensors.

import type { FluxParams } from '../flux/config.ts';
import { readTensors, writeTensors } from '../tensors.ts';
import { isBflLayout, loraFromBfl, loraToBfl } from './bfl.ts';
import { isKohyaLayout, loraFromKohya, loraToKohya } from './kohya.ts';
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

/** Reads a LoRA file of any supported layout onto the Linears of `params`. */
export function readLora(bytes: Uint8Array, params: FluxParams): Lora {
  const { tensors, metadata } = readTensors(bytes);
  const linears = fluxLinears(params);
  let lora: Lora;
  switch (detectLoraLayout(tensors.keys())) {
    case 'bfl':
      lora = loraFromBfl(tensors).lora;
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
    if (!shape) throw new Error(`LoRA: '${path}' is not a Linear of this model`);
    if (shape.inFeatures !== m.inFeatures || shape.outFeatures !== m.outFeatures) {
      throw new Error(`LoRA: '${path}' is ${m.outFeatures}×${m.inFeatures}, the model's Linear is ${shape.outFeatures}×${shape.inFeatures}`);
    }
  }
  return lora;
}

export function writeLora(lora: Lora, layout: LoraLayout = 'bfl', params?: FluxParams): Uint8Array {
  switch (layout) {
    case 'bfl':
      return writeTensors(loraToBfl(lora), 'F32', { format: 'bfl-flux-lora' });
    case 'kohya':
      return writeTensors(loraToKohya(lora), 'F32', { ss_network_module: 'networks.lora_flux' });
    case 'peft': {
      if (!params) throw new Error('writeLora: the PEFT layout needs the FluxParams (to split fused projections)');
      const { tensors, metadata } = loraToPeft(lora, params);
      return writeTensors(tensors, 'F32', metadata);
    }
  }
}
