// The rectified-flow Euler sampler (BFL's `denoise`): for consecutive (t_curr, t_prev) of the
// schedule, x ← x + (t_prev − t_curr)·v(x, t_curr). Steps are negative: from noise (t = 1)
// toward data (t = 0).

import type { FloatArray } from '../tensors.ts';

/** The model's velocity at (x, t). */
export type VelocityFn = (x: FloatArray, t: number) => Promise<ArrayLike<number>>;

export interface DenoiseOptions {
  signal?: AbortSignal;
  /** Called after each step with (steps done, total). */
  onStep?: (done: number, total: number) => void;
}

export async function denoise(velocity: VelocityFn, x0: FloatArray, timesteps: readonly number[], o: DenoiseOptions = {}): Promise<FloatArray> {
  const x = x0 instanceof Float64Array ? new Float64Array(x0) : new Float32Array(x0);
  const total = timesteps.length - 1;
  for (let i = 0; i < total; i++) {
    o.signal?.throwIfAborted();
    const tCurr = timesteps[i]!;
    const dt = timesteps[i + 1]! - tCurr;
    const v = await velocity(x, tCurr);
    if (v.length !== x.length) throw new Error(`denoise: velocity has ${v.length} values for ${x.length}`);
    for (let j = 0; j < x.length; j++) x[j]! += dt * v[j]!;
    o.onStep?.(i + 1, total);
  }
  return x;
}

/** Classifier-free guidance: uncond + s·(cond − uncond). */
export function guide(cond: ArrayLike<number>, uncond: ArrayLike<number>, scale: number): Float64Array {
  const out = new Float64Array(cond.length);
  for (let i = 0; i < out.length; i++) out[i] = uncond[i]! + scale * (cond[i]! - uncond[i]!);
  return out;
}
