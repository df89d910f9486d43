// CLIPTextTransformer (modeling_clip.py): embeddings, the causal mask of OpenAI's CLIP
// (`_create_4d_causal_attention_mask`: 0 on and below the diagonal, finfo(dtype).min above), the
// encoder, final_layer_norm → last_hidden_state, and pooler_output = last_hidden_state at one
// position per row, chosen from the ids as HF does:
//   eos_token_id == 2 (configs older than transformers PR #24773, FLUX.1's CLIP-L among them):
//     `input_ids.argmax(dim=-1)` — the first occurrence of the largest id (<|endoftext|> is the
//     largest id of the CLIP vocabulary);
//   otherwise: `(input_ids == eos_token_id).int().argmax(dim=-1)` — the first EOS, position 0
//     when a row has none.
// Both are built in the graph without an ArgMax op: key = primary·(L+1) + (L − position) is
// largest exactly at that first position (primary = the id, or 1 where id == eos), so
// onehot = (key == max(key)) and pooled = onehot · last_hidden_state, an exact selection.

import type { DType } from '../../engine/dtype.ts';
import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { ClipEncoder } from './clip-encoder.ts';
import { ClipTextEmbeddings } from './clip-text-embeddings.ts';
import type { ClipTextConfig } from './config.ts';
import { LayerNorm } from './layer-norm.ts';
import type { TextParamStore } from './params.ts';

/** torch.finfo(dtype).min, the value HF's masks put at masked positions. */
const FINFO_MIN: Partial<Record<DType, number>> = { float32: -3.4028234663852886e38, float64: -Number.MAX_VALUE };

/** HF's legacy eos_token_id: such configs pool at the argmax of the ids. */
export const LEGACY_EOS_TOKEN_ID = 2;

export function causalMask(x: Value, length: number): Value {
  const min = FINFO_MIN[x.dtype];
  if (min === undefined || x.dtype === 'float16') throw new Error(`CLIP: the causal mask is built for float32 and float64 graphs, not ${x.dtype}`);
  const data = new Float64Array(length * length);
  for (let q = 0; q < length; q++) for (let k = q + 1; k < length; k++) data[q * length + k] = min;
  return F.tensor(x.graph, x.dtype === 'float64' ? data : Float32Array.from(data), [1, 1, length, length], x.dtype);
}

export interface ClipTextOutputs {
  lastHiddenState: Value;
  pooledOutput: Value;
}

export class ClipTextTransformer {
  readonly embeddings: ClipTextEmbeddings;
  readonly encoder: ClipEncoder;
  readonly finalLayerNorm: LayerNorm;

  constructor(
    store: TextParamStore,
    path: string,
    readonly config: ClipTextConfig,
  ) {
    this.embeddings = new ClipTextEmbeddings(store, `${path}.embeddings`, config);
    this.encoder = new ClipEncoder(store, `${path}.encoder`, config);
    this.finalLayerNorm = new LayerNorm(store, `${path}.final_layer_norm`, config.hidden_size, config.layer_norm_eps);
  }

  /** input_ids int64 [B, L] → last_hidden_state [B, L, hidden] and pooler_output [B, hidden]. */
  forward(inputIds: Value): ClipTextOutputs {
    const g = inputIds.graph;
    const hidden = this.embeddings.forward(inputIds);
    const encoded = g.scope('encoder', () => this.encoder.forward(hidden, causalMask(hidden, inputIds.shape[1]!)));
    const lastHiddenState = this.finalLayerNorm.forward(encoded);
    return { lastHiddenState, pooledOutput: this.pool(lastHiddenState, inputIds) };
  }

  /** The rows of `lastHiddenState` at HF's pooling position (see the header). */
  pool(lastHiddenState: Value, inputIds: Value): Value {
    const [B, L, d] = lastHiddenState.shape as [number, number, number];
    const g = inputIds.graph;
    const primary = this.config.eos_token_id === LEGACY_EOS_TOKEN_ID ? inputIds : F.cast(F.equal(inputIds, this.config.eos_token_id), 'int64');
    const earlier = F.tensor(
      g,
      BigInt64Array.from({ length: L }, (_, i) => BigInt(L - i)),
      [L],
      'int64',
    );
    const key = F.add(F.mul(primary, L + 1), earlier);
    const onehot = F.cast(F.equal(key, F.reduceMax(key, -1)), lastHiddenState.dtype); // [B, L]
    return F.reshape(F.matmul(F.reshape(onehot, [B, 1, L]), lastHiddenState), [B, d]);
  }
}
