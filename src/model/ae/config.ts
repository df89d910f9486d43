// The autoencoder's hyper-parameters under BFL's `AutoEncoderParams` names (flux/src/flux/
// modules/autoencoder.py), so `configs.ae` of a vector set or a config written next to a real
// `ae.safetensors` is read as is. Validation catches what would otherwise be a shape error deep
// in the graph: BFL's GroupNorm has 32 groups, so every width must divide by 32.

export interface AutoEncoderParams {
  resolution: number;
  in_channels: number;
  ch: number;
  out_ch: number;
  ch_mult: number[];
  num_res_blocks: number;
  z_channels: number;
  scale_factor: number;
  shift_factor: number;
}

/** BFL's GroupNorm(num_groups=32, eps=1e-6), hard-coded in every AE module. */
export const AE_NORM_GROUPS = 32;
export const AE_NORM_EPS = 1e-6;

/** FLUX.1's autoencoder (BFL `util.py` `ae_params`, shared by dev, schnell and the tools). */
export const FLUX1_AE: AutoEncoderParams = {
  resolution: 256,
  in_channels: 3,
  ch: 128,
  out_ch: 3,
  ch_mult: [1, 2, 4, 4],
  num_res_blocks: 2,
  z_channels: 16,
  scale_factor: 0.3611,
  shift_factor: 0.1159,
};

/** How many pixels one latent pixel covers per side: 2 per Downsample (8 for FLUX.1). */
export function latentFactor(p: AutoEncoderParams): number {
  return 2 ** (p.ch_mult.length - 1);
}

const INT_FIELDS = ['resolution', 'in_channels', 'ch', 'out_ch', 'num_res_blocks', 'z_channels'] as const;

export function parseAeParams(raw: unknown): AutoEncoderParams {
  const o = raw as Record<string, unknown>;
  const bad = (why: string) => new Error(`autoencoder config: ${why}`);
  if (!o || typeof o !== 'object') throw bad('not an object');
  for (const k of INT_FIELDS) if (!Number.isInteger(o[k]) || (o[k] as number) < 1) throw bad(`${k} must be a positive integer, got ${String(o[k])}`);
  for (const k of ['scale_factor', 'shift_factor'] as const) if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw bad(`${k} must be a number`);
  if ((o.scale_factor as number) === 0) throw bad('scale_factor must not be 0 (decode divides by it)');
  const mult = o.ch_mult;
  if (!Array.isArray(mult) || !mult.length || mult.some((m) => !Number.isInteger(m) || m < 1))
    throw bad('ch_mult must be a non-empty list of positive integers');
  const p: AutoEncoderParams = {
    ...(Object.fromEntries(INT_FIELDS.map((k) => [k, o[k]])) as Pick<AutoEncoderParams, (typeof INT_FIELDS)[number]>),
    ch_mult: [...(mult as number[])],
    scale_factor: o.scale_factor as number,
    shift_factor: o.shift_factor as number,
  };
  for (const width of [p.ch, ...p.ch_mult.map((m) => m * p.ch)]) {
    if (width % AE_NORM_GROUPS !== 0) throw bad(`channel width ${width} does not divide into ${AE_NORM_GROUPS} GroupNorm groups`);
  }
  return p;
}
