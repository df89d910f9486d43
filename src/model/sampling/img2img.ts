// img2img start (BFL demo_st.py): with strength s, skip the first int((1 − s)·N) steps and start
// from the init latents noised to that step's time: x = t*·noise + (1 − t*)·init.

import type { FloatArray } from '../tensors.ts';

export interface Img2ImgStart {
  x: FloatArray;
  /** The schedule's tail, starting at t*. */
  timesteps: number[];
}

export function img2imgStart(timesteps: readonly number[], strength: number, noise: FloatArray, init: ArrayLike<number>): Img2ImgStart {
  if (!(strength >= 0 && strength <= 1)) throw new Error(`img2img strength must be in [0, 1], got ${strength}`);
  if (noise.length !== init.length) throw new Error('img2img: noise and init latents differ in size');
  const steps = timesteps.length - 1;
  const tIdx = Math.trunc((1 - strength) * steps);
  const tStar = timesteps[tIdx]!;
  const x = noise instanceof Float64Array ? new Float64Array(noise.length) : new Float32Array(noise.length);
  for (let i = 0; i < x.length; i++) x[i] = tStar * noise[i]! + (1 - tStar) * init[i]!;
  return { x, timesteps: timesteps.slice(tIdx) };
}
