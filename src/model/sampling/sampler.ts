// Text-to-image (and img2img) sampling with a FluxRunner: shifted schedule, Euler steps,
// optional classifier-free guidance run as one doubled batch [cond; uncond], optional distilled
// guidance for guidance-embedding models, LoRA at any strength.

import type { AppliedLora, FluxRunner } from '../flux/runner.ts';
import type { FloatArray } from '../tensors.ts';
import { type DenoiseOptions, denoise, guide, rescaleGuided, type VelocityFn } from './denoise.ts';
import { img2imgStart } from './img2img.ts';
import { getSchedule, type ScheduleOptions } from './schedule.ts';

export interface TextConditioning {
  /** [B, L_txt, context_in_dim] */
  txt: ArrayLike<number>;
  /** [B, vec_in_dim] */
  y: ArrayLike<number>;
}

export interface SampleRequest extends DenoiseOptions {
  /** Batch B without CFG, 2B with CFG (cond and uncond run together). */
  runner: FluxRunner;
  cond: TextConditioning;
  /** [B, L_img, 3] */
  imgIds: ArrayLike<number>;
  /** [B, L_img, in_channels] starting noise (see noise.ts). */
  noise: FloatArray;
  steps: number;
  /** Classifier-free guidance scale with `uncond` (e.g. the empty caption's encoding). */
  cfg?: { scale: number; uncond: TextConditioning /** guidance rescale φ (0 = plain CFG) */; rescale?: number };
  /** Distilled guidance value, for configs with guidance_embed. */
  guidance?: number;
  lora?: AppliedLora;
  /** img2img: init latents (same layout as noise) and strength in [0, 1] (1 ignores them). */
  init?: { latents: ArrayLike<number>; strength: number };
  schedule?: ScheduleOptions;
}

function twice(a: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length * 2);
  out.set(a as ArrayLike<number>, 0);
  out.set(a as ArrayLike<number>, a.length);
  return out;
}

function stack(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new Error('CFG: cond and uncond conditioning differ in size');
  const out = new Float64Array(a.length * 2);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export async function sample(req: SampleRequest): Promise<FloatArray> {
  const { runner } = req;
  const { batch, imgTokens } = runner.shape;
  const params = runner.flux.params;
  const cfg = req.cfg;
  const B = cfg ? batch / 2 : batch;
  if (!Number.isInteger(B)) throw new Error('sample: CFG needs a runner built for an even batch (cond + uncond)');
  if (params.guidance_embed && req.guidance === undefined) throw new Error('sample: this model embeds guidance; pass guidance');

  const full = (v: number) => new Float64Array(batch).fill(v);
  const imgIds = cfg ? twice(req.imgIds) : req.imgIds;
  const txt = cfg ? stack(req.cond.txt, cfg.uncond.txt) : req.cond.txt;
  const y = cfg ? stack(req.cond.y, cfg.uncond.y) : req.cond.y;
  const guidance = req.guidance !== undefined ? full(req.guidance) : undefined;

  const velocity: VelocityFn = async (x, t) => {
    const pred = await runner.forward({ img: cfg ? twice(x) : x, imgIds, txt, y, timesteps: full(t), guidance }, req.lora);
    if (!cfg) return pred;
    const half = pred.length / 2;
    const cond = pred.subarray(0, half);
    return rescaleGuided(guide(cond, pred.subarray(half), cfg.scale), cond, B, cfg.rescale ?? 0);
  };

  let timesteps = getSchedule(req.steps, imgTokens, req.schedule);
  let x: FloatArray = req.noise;
  if (req.init && req.init.strength < 1) {
    ({ x, timesteps } = img2imgStart(timesteps, req.init.strength, req.noise, req.init.latents));
  }
  return denoise(velocity, x, timesteps, req);
}
