// float32 exp as PyTorch computes it on CPU (SLEEF's expf_u10 with FMA), so the timestep
// frequency table matches the reference bit for bit. A correctly rounded exp differs from it by
// one ulp for ~15 of the 128 frequencies, which at guidance ×1000 = 3500 moves angles by
// ~1e-4 — enough to fail the reference-vector tolerance on guidance_in's gradient.

// biome-ignore-all lint/correctness/noPrecisionLoss: SLEEF's constants as its source writes them; Math.fround rounds each to the float32 it means.
// biome-ignore-all lint/suspicious/noApproximativeNumericConstant: 1/ln 2 exactly as SLEEF spells it, then rounded to float32.

const f = Math.fround;

/** f32(a·b + c) with one rounding to float32 (a·b of two float32s is exact in float64). */
function fmaf(a: number, b: number, c: number): number {
  return f(a * b + c);
}

const R_LN2 = f(1.4426950408889634);
const L2U = f(0.693145751953125);
const L2L = f(1.428606765330187045e-6);
const POLY = [
  0.000198527617612853646278381, 0.00139304355252534151077271, 0.00833336077630519866943359, 0.0416664853692054748535156, 0.166666671633720397949219, 0.5,
].map(f);

/** e^d for a float32 `d` in the normal range (used on [−ln 10⁴, 0] only). */
export function torchExpf(d: number): number {
  d = f(d);
  const q = Math.round(f(d * R_LN2));
  let s = fmaf(q, -L2U, d);
  s = fmaf(q, -L2L, s);
  let u = POLY[0]!;
  for (let i = 1; i < POLY.length; i++) u = fmaf(u, s, POLY[i]!);
  u = f(1 + fmaf(f(s * s), u, s));
  return f(u * 2 ** q);
}
