// What the network's last layer predicts. BFL's FLUX predicts the velocity ε − x0 directly.
// A model may instead predict the clean image x0 and expose the velocity it implies,
// v = (x_t − x̂0) / t (Li & He 2025, "Back to Basics: Let Denoising Generative Models Denoise"):
// when tokens are raw pixel patches (192 values each for flux-mini, against a hidden width of
// 256) the velocity carries a full-dimensional noise component the output head cannot fit, and
// samples come out as patch mosaics; the clean image lies on a low-dimensional manifold the head
// can reach. Everything downstream (losses, samplers, guidance, the captioner) still sees a
// velocity, so only the graph changes. t is clipped below at `min_t` to keep the division bounded.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';

export type Prediction = { type: 'velocity' } | { type: 'x0'; min_t: number };

export const VELOCITY: Prediction = { type: 'velocity' };

export function parsePrediction(p: unknown): Prediction {
  if (p === undefined) return VELOCITY;
  const o = p as { type?: unknown; min_t?: unknown };
  if (o.type === 'velocity') return VELOCITY;
  if (o.type === 'x0' && typeof o.min_t === 'number' && o.min_t > 0 && o.min_t < 1) return { type: 'x0', min_t: o.min_t };
  throw new Error(`prediction must be {"type":"velocity"} or {"type":"x0","min_t":0<t<1}, got ${JSON.stringify(p)}`);
}

/**
 * The velocity the graph outputs, given the network's raw output `out` for the model input `img` at
 * `timesteps` [B]. A conditioned model's input carries the condition after the noisy latents on the
 * channel axis (canny, depth, fill: `cat((img, img_cond), -1)`); only the first `out_channels` are x_t.
 */
export function velocityOutput(prediction: Prediction, out: Value, img: Value, timesteps: Value): Value {
  if (prediction.type === 'velocity') return out;
  const [B] = timesteps.shape;
  const latent = out.shape[2]!;
  const xt = img.shape[2] === latent ? img : F.slice(img, 2, 0, latent);
  const t = F.reshape(F.maximum(timesteps, prediction.min_t), [B!, 1, 1]);
  return F.div(F.sub(xt, out), t);
}

/** The same map on plain arrays (tests, and callers holding a raw x̂0). */
export function velocityFromX0(xt: ArrayLike<number>, x0: ArrayLike<number>, t: number, minT: number): Float64Array {
  const d = Math.max(t, minT);
  return Float64Array.from({ length: xt.length }, (_, i) => (xt[i]! - x0[i]!) / d);
}

/** The clean image a graph's velocity output implies: x_t − t·v for velocity models, the network's x̂0 exactly for x0 models. */
export function cleanFromVelocity(prediction: Prediction, xt: ArrayLike<number>, v: ArrayLike<number>, t: number): Float32Array {
  const d = prediction.type === 'x0' ? Math.max(t, prediction.min_t) : t;
  return Float32Array.from({ length: xt.length }, (_, i) => xt[i]! - d * v[i]!);
}
