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

/**
 * Guidance rescale (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps Are
 * Flawed", §3.4): the guided prediction is scaled, per sample, to the standard deviation of the
 * conditional one and mixed back by `phi`. Without it a large scale over- or under-removes noise
 * wherever cond and uncond disagree on how much noise there is (flux-mini left grey backgrounds noisy).
 */
export function rescaleGuided(guided: Float64Array, cond: ArrayLike<number>, samples: number, phi: number): Float64Array {
  if (phi === 0) return guided;
  const per = guided.length / samples;
  if (!Number.isInteger(per)) throw new Error(`rescaleGuided: ${guided.length} values do not split into ${samples} samples`);
  const std = (a: ArrayLike<number>, from: number) => {
    let mean = 0;
    for (let i = from; i < from + per; i++) mean += a[i]!;
    mean /= per;
    let sq = 0;
    for (let i = from; i < from + per; i++) sq += (a[i]! - mean) ** 2;
    return Math.sqrt(sq / per);
  };
  for (let b = 0; b < samples; b++) {
    const from = b * per;
    const sg = std(guided, from);
    const factor = sg > 0 ? phi * (std(cond, from) / sg) + (1 - phi) : 1;
    for (let i = from; i < from + per; i++) guided[i]! *= factor;
  }
  return guided;
}
