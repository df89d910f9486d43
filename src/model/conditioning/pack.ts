// FLUX's latent packing, `rearrange(x, "b c (h ph) (w pw) -> b (h w) (c ph pw)")` (BFL sampling.py
// `prepare`), and its inverse `unpack`, for one [C, H, W] tensor. flux-mini's pixel codec is the
// same map with the RGB image as the "latent" and p = 8 (codec/patches.ts); real FLUX.1 packs the
// autoencoder's 16 channels with p = 2.

/** [C, H, W] → [(H/p)·(W/p), C·p·p] tokens, channel-major features (c·p² + dy·p + dx). */
export function pack(chw: ArrayLike<number>, c: number, h: number, w: number, p: number): Float32Array {
  if (h % p || w % p) throw new Error(`pack: ${h}×${w} is not a multiple of ${p}`);
  if (chw.length !== c * h * w) throw new Error(`pack: ${chw.length} values for [${c}, ${h}, ${w}]`);
  const rows = h / p;
  const cols = w / p;
  const f = c * p * p;
  const out = new Float32Array(rows * cols * f);
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const base = (r * cols + q) * f;
      for (let ch = 0; ch < c; ch++) {
        for (let dy = 0; dy < p; dy++) {
          for (let dx = 0; dx < p; dx++) out[base + ch * p * p + dy * p + dx] = chw[(ch * h + r * p + dy) * w + q * p + dx]!;
        }
      }
    }
  }
  return out;
}

/** The inverse of `pack`: tokens [(H/p)·(W/p), C·p·p] → [C, H, W]. */
export function unpack(tokens: ArrayLike<number>, c: number, h: number, w: number, p: number): Float32Array {
  const rows = h / p;
  const cols = w / p;
  const f = c * p * p;
  if (tokens.length !== rows * cols * f) throw new Error(`unpack: ${tokens.length} values for [${c}, ${h}, ${w}] at p = ${p}`);
  const out = new Float32Array(c * h * w);
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const base = (r * cols + q) * f;
      for (let ch = 0; ch < c; ch++) {
        for (let dy = 0; dy < p; dy++) {
          for (let dx = 0; dx < p; dx++) out[(ch * h + r * p + dy) * w + q * p + dx] = tokens[base + ch * p * p + dy * p + dx]!;
        }
      }
    }
  }
  return out;
}
