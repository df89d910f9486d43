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
  /** [B, L_img, out_channels] starting noise (see noise.ts): the latent channels, not the model's input width. */
  noise: FloatArray;
  /**
   * Structural conditioning [B, L_img, in_channels − out_channels] (canny/depth control latents, fill's
   * masked image + mask): joined after the noisy latents on the channel axis before every model call,
   * as BFL's `denoise` does with `torch.cat((img, img_cond), dim=-1)`.
   */
  imgCond?: ArrayLike<number>;
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

/** Per token: `a`'s channels, then `b`'s (the channel-axis concat of [N, ca] and [N, cb]). */
export function concatChannels(a: ArrayLike<number>, b: ArrayLike<number>, tokens: number, ca: number, cb: number): Float64Array {
  const out = new Float64Array(tokens * (ca + cb));
  for (let n = 0; n < tokens; n++) {
    const o = n * (ca + cb);
    for (let i = 0; i < ca; i++) out[o + i] = a[n * ca + i]!;
    for (let i = 0; i < cb; i++) out[o + ca + i] = b[n * cb + i]!;
  }
  return out;
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

  const latent = params.out_channels;
  const condChannels = params.in_channels - latent;
  if (req.noise.length !== B * imgTokens * latent) {
    throw new Error(`sample: noise has ${req.noise.length} values, expected ${B}×${imgTokens}×${latent} latent channels`);
  }
  if (condChannels > 0 && req.imgCond?.length !== B * imgTokens * condChannels) {
    throw new Error(`sample: this model takes ${condChannels} conditioning channels per token; pass imgCond [${B}, ${imgTokens}, ${condChannels}]`);
  }
  if (condChannels === 0 && req.imgCond) throw new Error('sample: imgCond given to a model without conditioning channels');
  const imgCond = req.imgCond && cfg ? twice(req.imgCond) : req.imgCond;
  const modelInput = (x: ArrayLike<number>) => (imgCond ? concatChannels(x, imgCond, batch * imgTokens, latent, condChannels) : x);

  const velocity: VelocityFn = async (x, t) => {
    const pred = await runner.forward({ img: modelInput(cfg ? twice(x) : x), imgIds, txt, y, timesteps: full(t), guidance }, req.lora);
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
