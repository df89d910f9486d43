// Hugging Face's ACT2FN entries the two encoders use (transformers/activations.py):
// gelu_new = NewGELUActivation, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) — T5 v1.1's FFN;
// quick_gelu = QuickGELUActivation, x·σ(1.702·x) — CLIP's MLP; gelu = the exact erf form; relu.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';

export function activation(name: string): (x: Value) => Value {
  switch (name) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return (x) => F.gelu(x, 'tanh');
    case 'gelu':
      return (x) => F.gelu(x, 'none');
    case 'quick_gelu':
      // ORT fuses x·σ(αx) into QuickGelu, which has a float32 kernel only: other types get x / (1 + e^(−αx)).
      return (x) => (x.dtype === 'float32' ? F.mul(x, F.sigmoid(F.mul(x, 1.702))) : F.div(x, F.add(F.exp(F.mul(x, -1.702)), 1)));
    case 'relu':
      return F.relu;
    default:
      throw new Error(`text encoder: activation '${name}' is not supported (gelu_new, gelu, quick_gelu, relu)`);
  }
}
