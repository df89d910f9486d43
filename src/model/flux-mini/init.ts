// Initial weights for training from scratch: adaLN-Zero (DiT) — every modulation and the final
// projection start at zero, so each block starts as the identity and the model predicts zero
// velocity; other linears get scaled normal weights, norms start at one.

import type { Rng } from '../../engine/rng.ts';

export function initialWeight(key: string, shape: readonly number[], rng: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const zero =
    /(_mod\.lin|modulation\.lin|adaLN_modulation\.1)\.(weight|bias)$/.test(key) ||
    /^final_layer\.linear\./.test(key) ||
    // unused word buckets (e.g. a finetune's trigger word) then stay exactly zero: bytes alone encode them
    key.endsWith('word_embedding.weight');
  if (zero || key.endsWith('.bias')) return data;
  if (key.endsWith('.scale') || /norm\w*\.weight$/.test(key)) return data.fill(1);
  if (key.endsWith('embedding.weight')) return rng.fillNormal(data, 0.02);
  // pooled per-word vectors start as distinct random codes the size of the pooled text state (rms
  // ≈ 0.7), like a class embedding; a finetune's trigger word lands on such an untrained code.
  if (key.endsWith('word_vector.weight')) return rng.fillNormal(data, 0.5);
  // Linear [out, in]: Xavier-uniform-like variance 1/in keeps activations unit-scale through the stack.
  return rng.fillNormal(data, 1 / Math.sqrt(shape[1]!));
}
