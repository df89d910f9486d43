// A LoRA of flux-mini's geometry (every block Linear, as finetunes train it), with small,
// deterministic, non-zero factors: what the LoRA download/import tests send and expect back.

import { loadFluxMiniConfig } from '../../src/model/flux-mini/config.ts';
import { writeLora } from '../../src/model/lora/files.ts';
import { blockLinears, fluxLinears, type Lora } from '../../src/model/lora/lora.ts';

export function fluxMiniLora(rank = 4, seed = 7, scale = 1): Lora {
  const lora: Lora = new Map();
  let s = seed >>> 0 || 1;
  const fill = (n: number, amplitude: number) =>
    Float32Array.from({ length: n }, () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s / 2 ** 32 - 0.5) * amplitude * scale;
    });
  for (const [path, shape] of fluxLinears(loadFluxMiniConfig().flux)) {
    if (!blockLinears(path)) continue;
    lora.set(path, {
      rank,
      inFeatures: shape.inFeatures,
      outFeatures: shape.outFeatures,
      down: fill(rank * shape.inFeatures, 0.2),
      up: fill(shape.outFeatures * rank, 0.1),
    });
  }
  return lora;
}

/** The same LoRA as a BFL-layout safetensors file. */
export const fluxMiniLoraFile = (rank = 4, seed = 7, scale = 1) => writeLora(fluxMiniLora(rank, seed, scale));
