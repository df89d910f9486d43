// npm run bench:adamw -- [--config models/flux-mini/config.json | --params 4000000] [--reps 7] [--json]
// AdamW with grad clipping (and with the pretraining EMA) over a model's tensors (default: every
// flux-mini weight, 9.2 M, as a full finetune trains them; --params N: N in tensors of flux-mini's
// largest size), three ways in the same process: the WebAssembly SIMD kernel (what AdamW runs), the
// TypeScript loop it replaced (bit-identical results, checked here), and the same update as an ONNX
// graph (which pays a pass over memory per elementwise node and copies p, m, v in and out).

import { readFileSync } from 'node:fs';
import { AdamW } from '../src/engine/adamw.ts';
import { Graph } from '../src/engine/graph.ts';
import * as F from '../src/engine/ops.ts';
import { Rng } from '../src/engine/rng.ts';
import { Session } from '../src/engine/session.ts';
import { buildFluxGraph } from '../src/model/flux/build.ts';
import { parseFluxParams } from '../src/model/flux/config.ts';
import { parseArgs, timeRuns } from './lib/timing.ts';

const args = parseArgs(process.argv.slice(2));
const reps = Number(args.reps ?? 7);
const LARGEST = 256 * 1792;

function tensorSizes(): number[] {
  if (args.params) {
    const n = Number(args.params);
    const sizes = Array<number>(Math.floor(n / LARGEST)).fill(LARGEST);
    if (n % LARGEST) sizes.push(n % LARGEST);
    return sizes;
  }
  const json = JSON.parse(readFileSync(String(args.config ?? 'models/flux-mini/config.json'), 'utf8'));
  const fg = buildFluxGraph(parseFluxParams(json.flux ?? json), { batch: 1, imgTokens: 4, txtTokens: 4 });
  return [...fg.store.params.values()].map((v) => v.size);
}

const sizes = tensorSizes();
const rng = new Rng(0);
const init = sizes.map((n) => rng.fillNormal(new Float32Array(n), 0.02));
const grads = Object.fromEntries(sizes.map((n, i) => [`w${i}`, rng.fillNormal(new Float32Array(n), 0.01)]));
const copy = () => new Map(init.map((p, i) => [`w${i}`, Float32Array.from(p)]));

interface Variant {
  params: Map<string, Float32Array>;
  ema: Map<string, Float32Array>;
  opt: AdamW;
}
const variant = (simd: boolean): Variant => {
  const params = copy();
  return { params, ema: copy(), opt: new AdamW(params, { lr: 1e-4, maxGradNorm: 1, simd }) };
};
const simd = variant(true);
const ts = variant(false);
if (!simd.opt.usesSimd) console.warn('bench:adamw: no WebAssembly SIMD here, both rows run the TypeScript loop');

// Interleaved, so both see the same load on this shared machine.
const time = (v: Variant, withEma: boolean) =>
  timeRuns(async () => v.opt.step(grads, undefined, withEma ? { decay: 0.999, weights: v.ema } : undefined), { reps });
const rows = { ts: await time(ts, false), simd: await time(simd, false), ts_ema: await time(ts, true), simd_ema: await time(simd, true) };
let identical = true;
for (const [k, p] of ts.params) {
  const q = simd.params.get(k)!;
  const [e, f] = [ts.ema.get(k)!, simd.ema.get(k)!];
  for (let i = 0; i < p.length; i++) if (p[i] !== q[i] || e[i] !== f[i]) identical = false;
}

// The same update as one ONNX graph over the whole parameter vector (bias corrections folded into fed scalars).
const n = sizes.reduce((a, b) => a + b, 0);
const g = new Graph();
const [pw, gw, m, v] = ['p', 'g', 'm', 'v'].map((name) => g.input(name, [n]));
const stepSize = g.input('step_size', []);
const decay = g.input('decay', []);
const bc2 = g.input('bc2', []);
const m2 = F.add(F.mul(m!, 0.9), F.mul(gw!, 0.1));
const v2 = F.add(F.mul(v!, 0.999), F.mul(F.square(gw!), 0.001));
const upd = F.div(F.mul(m2, stepSize), F.add(F.sqrt(F.div(v2, bc2)), 1e-8));
const p2 = F.sub(F.mul(pw!, decay), upd);
const session = await Session.create({ outputs: { p2, m2, v2 } });
const [p, grad, mm, vv] = [0, 1, 2, 3].map(() => rng.fillNormal(new Float32Array(n), 0.01));
vv!.fill(1e-4);
const graph = await timeRuns(
  async () => {
    const out = await session.run({
      p: p!,
      g: grad!,
      m: mm!,
      v: vv!,
      step_size: Float32Array.of(1e-4),
      decay: Float32Array.of(1 - 1e-6),
      bc2: Float32Array.of(0.5),
    });
    p!.set(out.p2 as Float32Array);
    mm!.set(out.m2 as Float32Array);
    vv!.set(out.v2 as Float32Array);
  },
  { reps },
);
await session.release();

const s = (t: { best: number; median: number }) => ({ best_s: +t.best.toFixed(4), median_s: +t.median.toFixed(4) });
const result = {
  bench: 'adamw',
  params: n,
  tensors: sizes.length,
  simd: simd.opt.usesSimd,
  typescript: s(rows.ts),
  wasm_simd: s(rows.simd),
  typescript_ema: s(rows.ts_ema),
  wasm_simd_ema: s(rows.simd_ema),
  onnx_graph: s(graph),
  speedup: +(rows.ts.median / rows.simd.median).toFixed(2),
  speedup_ema: +(rows.ts_ema.median / rows.simd_ema.median).toFixed(2),
  graph_over_ts: +(graph.median / rows.ts.median).toFixed(2),
  bit_identical: identical,
};
console.log(args.json ? JSON.stringify(result) : result);
