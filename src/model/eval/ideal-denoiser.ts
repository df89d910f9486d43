// The best denoiser there can be for a finite family of clean images under a uniform prior: the
// posterior mean E[x0 | x_t] with x_t = (1 − t)·x0 + t·ε. The centred training scenes of one caption
// form such a family (only the object's size varies), so comparing the model's x̂0 with this one's,
// noise level by noise level, shows how far pretraining is from having learnt its own data — where
// finished samples only show that something is wrong, this shows at which t.

import type { Rng } from '../../engine/rng.ts';
import { imageToTokens } from '../codec/patches.ts';
import { CENTRED_SIZE, renderScene, type Sprite } from '../pretrain/scenes.ts';

export class IdealDenoiser {
  constructor(readonly members: readonly Float32Array[]) {
    if (members.length === 0) throw new Error('IdealDenoiser: empty family');
    if (members.some((m) => m.length !== members[0]!.length)) throw new Error('IdealDenoiser: members differ in size');
  }

  /** Posterior probability of each member given x_t (t in (0, 1]). */
  posterior(xt: ArrayLike<number>, t: number): Float64Array {
    if (!(t > 0 && t <= 1)) throw new Error(`IdealDenoiser: t must be in (0, 1], got ${t}`);
    const logLik = this.members.map((m) => {
      let e = 0;
      for (let i = 0; i < m.length; i++) e += (xt[i]! - (1 - t) * m[i]!) ** 2;
      return -e / (2 * t * t);
    });
    const top = Math.max(...logLik);
    const w = Float64Array.from(logLik, (l) => Math.exp(l - top));
    const z = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / z);
  }

  denoise(xt: ArrayLike<number>, t: number): Float32Array {
    const w = this.posterior(xt, t);
    const out = new Float32Array(this.members[0]!.length);
    this.members.forEach((m, j) => {
      if (w[j]! < 1e-12) return;
      for (let i = 0; i < out.length; i++) out[i]! += w[j]! * m[i]!;
    });
    return out;
  }
}

/** Patch tokens of `concept` centred on `background` at `count` sizes evenly spanning the training range. */
export function centredFamily(
  sprites: ReadonlyMap<string, Sprite>,
  concept: string,
  background: string,
  o: { size: number; patch: number; count?: number },
): Float32Array[] {
  const count = o.count ?? 61;
  return Array.from({ length: count }, (_, i) => {
    const size = CENTRED_SIZE.min + (CENTRED_SIZE.span * i) / (count - 1);
    return imageToTokens(renderScene({ background, objects: [{ concept, cx: 0.5, cy: 0.5, size }] }, sprites, o.size, o.size), o.patch);
  });
}

/** A model's clean-image prediction from (x_t, t) for one caption. */
export type PredictClean = (xt: Float32Array, t: number) => Promise<ArrayLike<number>>;

export interface DenoisingError {
  t: number;
  /** mean squared error of x̂0 against the true x0, per value */
  model: number;
  ideal: number;
}

/**
 * Draws `repeats` members of the family per t, noises them, and averages the squared error of the
 * model's and the ideal denoiser's x̂0 against the truth.
 */
export async function denoisingErrors(
  family: readonly Float32Array[],
  predict: PredictClean,
  ts: readonly number[],
  rng: Rng,
  repeats = 1,
): Promise<DenoisingError[]> {
  const ideal = new IdealDenoiser(family);
  const out: DenoisingError[] = [];
  for (const t of ts) {
    let model = 0;
    let best = 0;
    for (let r = 0; r < repeats; r++) {
      const x0 = family[rng.int(family.length)]!;
      const xt = new Float32Array(x0.length);
      for (let i = 0; i < xt.length; i++) xt[i] = (1 - t) * x0[i]! + t * rng.normal();
      const xm = await predict(xt, t);
      const xi = ideal.denoise(xt, t);
      for (let i = 0; i < x0.length; i++) {
        model += (xm[i]! - x0[i]!) ** 2;
        best += (xi[i]! - x0[i]!) ** 2;
      }
    }
    out.push({ t, model: model / (repeats * family[0]!.length), ideal: best / (repeats * family[0]!.length) });
  }
  return out;
}
