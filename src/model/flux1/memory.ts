// Will the model fit? An estimate made from the checkpoint headers before any weight is read,
// so a machine that cannot hold FLUX.1 says so at start-up, with the figures, instead of being
// killed by the OOM killer twenty minutes into loading. Graphs run in float32 (4 bytes per
// parameter, whatever the file stores); the transformer is counted twice because its session is
// built from a float32 copy read from disk (held until ONNX Runtime has its own), the rest once.

import { totalmem } from 'node:os';
import { type FluxParams, fluxDims } from '../flux/config.ts';

export interface MemoryEstimate {
  transformerParams: number;
  aeParams: number;
  textParams: number;
  /** Peak bytes: weights as float32 (transformer ×2 while its session loads) + activations at the largest size. */
  peakBytes: number;
  /** Where the figure is checked against. */
  availableBytes: number;
}

const GiB = 2 ** 30;

export class ModelTooLarge extends Error {
  override readonly name = 'ModelTooLarge';
}

const count = (shapes: Iterable<readonly number[]>) => {
  let n = 0;
  for (const s of shapes) n += s.reduce((a, b) => a * b, 1);
  return n;
};

/** Activations of one transformer forward at `tokens` image tokens (batch 1): attention scores dominate. */
function activationBytes(p: FluxParams, tokens: number, txtTokens: number): number {
  const L = tokens + txtTokens;
  const d = fluxDims(p);
  return 4 * (2 * d.heads * L * L + 16 * L * (d.hidden + d.mlpHidden));
}

export function estimateMemory(o: {
  params: FluxParams;
  transformer: Iterable<readonly number[]>;
  ae: Iterable<readonly number[]>;
  text: Iterable<readonly number[]>;
  txtTokens: number;
  /** Largest image the API asks for: 1440×1440 → 8100 tokens. */
  maxImageTokens?: number;
  /** FLUXTUNE_MEMORY_GB, else the machine's RAM. */
  availableBytes?: number;
}): MemoryEstimate {
  const transformerParams = count(o.transformer);
  const aeParams = count(o.ae);
  const textParams = count(o.text);
  const peakBytes = 4 * (2 * transformerParams + aeParams + textParams) + activationBytes(o.params, o.maxImageTokens ?? 8100, o.txtTokens);
  return { transformerParams, aeParams, textParams, peakBytes, availableBytes: o.availableBytes ?? availableMemory() };
}

/** FLUXTUNE_MEMORY_GB (the memory this process may use), else the machine's total RAM. */
export function availableMemory(env: NodeJS.ProcessEnv = process.env): number {
  const gb = env.FLUXTUNE_MEMORY_GB;
  if (gb === undefined || gb === '') return totalmem();
  const v = Number(gb);
  if (!(v > 0)) throw new Error(`FLUXTUNE_MEMORY_GB must be a positive number, not '${gb}'`);
  return v * GiB;
}

export function checkMemory(e: MemoryEstimate, what: string): void {
  if (e.peakBytes <= e.availableBytes) return;
  const gb = (b: number) => `${(b / GiB).toFixed(1)} GiB`;
  throw new ModelTooLarge(
    `${what} needs about ${gb(e.peakBytes)} of memory (transformer ${(e.transformerParams / 1e9).toFixed(2)} B parameters as float32, loaded twice while its session builds; ` +
      `autoencoder ${(e.aeParams / 1e6).toFixed(1)} M; text encoders ${(e.textParams / 1e9).toFixed(2)} B; activations at 1440×1440), ` +
      `but ${gb(e.availableBytes)} is available (${process.env.FLUXTUNE_MEMORY_GB ? 'FLUXTUNE_MEMORY_GB' : 'the machine’s RAM'}). ` +
      'Use a machine with more memory, or set FLUXTUNE_MEMORY_GB if this figure is wrong for yours.',
  );
}
