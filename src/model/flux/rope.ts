// 3-axis rotary position embedding (BFL's EmbedND / rope / apply_rope). The angles depend only
// on the position ids, never on weights, so the cos/sin tables are computed here in TS and fed
// to the graph; the graph only applies them. Rotations act on *interleaved* pairs
// (x[2i], x[2i+1]), not GPT-NeoX split halves, with the axes concatenated along the pair index
// in id order (index, row, column).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';

export interface RopeTables {
  /** [B, L, D]: cos φ repeated on both members of each pair. */
  cos: Float64Array;
  /** [B, L, D]: −sin φ on the first member of each pair, +sin φ on the second. */
  sin: Float64Array;
}

/**
 * Tables for `ids` [B, L, n_axes] (text ids first, then image ids, as the model concatenates).
 * Pair j of an axis with dim d rotates by p · θ^(−2j/d).
 */
export function ropeTables(ids: ArrayLike<number>, batch: number, tokens: number, axesDim: readonly number[], theta: number): RopeTables {
  const nAxes = axesDim.length;
  if (ids.length !== batch * tokens * nAxes) {
    throw new Error(`rope: ${ids.length} ids for [${batch}, ${tokens}, ${nAxes}]`);
  }
  const D = axesDim.reduce((a, b) => a + b, 0);
  const omegas: number[] = [];
  const axisOfPair: number[] = [];
  axesDim.forEach((d, a) => {
    for (let j = 0; j < d / 2; j++) {
      omegas.push(1 / theta ** ((2 * j) / d));
      axisOfPair.push(a);
    }
  });
  const cos = new Float64Array(batch * tokens * D);
  const sin = new Float64Array(batch * tokens * D);
  for (let n = 0; n < batch * tokens; n++) {
    for (let j = 0; j < D / 2; j++) {
      const phi = ids[n * nAxes + axisOfPair[j]!]! * omegas[j]!;
      const c = Math.cos(phi);
      const s = Math.sin(phi);
      const o = n * D + 2 * j;
      cos[o] = c;
      cos[o + 1] = c;
      sin[o] = -s;
      sin[o + 1] = s;
    }
  }
  return { cos, sin };
}

/**
 * Rotates x [B, L, heads, D] by tables [B, L, 1, D]:
 * out[2i] = c·x[2i] − s·x[2i+1], out[2i+1] = s·x[2i] + c·x[2i+1].
 * float32 runs as one ORT RotaryEmbedding kernel (rotaryKernel); other dtypes (the float64
 * reference graphs) as x·cos + swap_pairs(x)·sin, which stays elementwise but costs a split, a
 * concat and three passes over x.
 */
export function applyRope(x: Value, cos: Value, sin: Value): Value {
  const D = x.shape[x.rank - 1]!;
  if (
    x.dtype === 'float32' &&
    x.rank === 4 &&
    cos.rank === 4 &&
    (cos.shape[0] === 1 || cos.shape[0] === x.shape[0]) &&
    cos.shape[2] === 1 &&
    cos.shape[1] === x.shape[1] &&
    cos.shape[3] === D
  ) {
    const [B, L, heads] = x.shape as [number, number, number];
    const k = rotaryKernel(cos, sin, B);
    return F.reshape(F.rotaryEmbedding(F.reshape(x, [B, L, heads * D]), k.positions, k.cos, k.sin, heads), x.shape);
  }
  const pairs = F.reshape(x, [...x.shape.slice(0, -1), D / 2, 2]);
  const [even, odd] = F.split(pairs, [1, 1], -1) as [Value, Value];
  const swapped = F.reshape(F.concat([odd, even], -1), x.shape);
  return F.add(F.mul(x, cos), F.mul(swapped, sin));
}

interface RotaryTables {
  positions: Value;
  cos: Value;
  sin: Value;
}

/** One derivation of the kernel's tables per fed table (every attention in a graph shares it). */
const kernelTables = new WeakMap<Value, Map<number, RotaryTables>>();

/**
 * The fed [Bt, L, 1, D] tables as the kernel reads them: rows [Bt·L, D/2] (cos of each pair; the
 * sine from each pair's second member, +sin φ), and positions [B, L] = b·L + l (row l for all b
 * when the tables broadcast over the batch, Bt = 1).
 */
function rotaryKernel(cos: Value, sin: Value, batch: number): RotaryTables {
  const byBatch = kernelTables.get(cos) ?? new Map<number, RotaryTables>();
  kernelTables.set(cos, byBatch);
  const hit = byBatch.get(batch);
  if (hit) return hit;
  const [Bt, L, , D] = cos.shape as [number, number, number, number];
  const rows = (t: Value, member: number) => F.reshape(F.slice(F.reshape(t, [Bt * L, D / 2, 2]), 2, member, member + 1), [Bt * L, D / 2]);
  const positions = new BigInt64Array(batch * L);
  for (let b = 0; b < batch; b++) for (let l = 0; l < L; l++) positions[b * L + l] = BigInt((Bt === 1 ? 0 : b) * L + l);
  const tables = { positions: F.tensor(cos.graph, positions, [batch, L], 'int64'), cos: rows(cos, 0), sin: rows(sin, 1) };
  byBatch.set(batch, tables);
  return tables;
}
