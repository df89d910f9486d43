// npm run bench:engine -- [--json] [--depth 4] [--batch 4] [--tokens 288] [--adamw typescript]
// Forward and training-step speed of a FLUX-like block stack (hidden 256, 4 heads, MLP 4x) built with
// our autodiff, as MFU against the matmul peak measured in the same process (lib/peak.ts; the fastest run against the
// fastest matmul, the medians printed too).

import { AdamW } from '../src/engine/adamw.ts';
import { grad } from '../src/engine/autodiff.ts';
import { Graph, type Value } from '../src/engine/graph.ts';
import * as F from '../src/engine/ops.ts';
import { Rng } from '../src/engine/rng.ts';
import { Session } from '../src/engine/session.ts';
import { buildStack, forwardFlops, initParams, type StackConfig } from './flux-like-stack.ts';
import { MatmulPeak, mfus, modelGemms } from './lib/peak.ts';
import { parseArgs, peakRssMiB, timeRuns } from './lib/timing.ts';

const args = parseArgs(process.argv.slice(2));
const cfg: StackConfig = {
  hidden: Number(args.hidden ?? 256),
  heads: Number(args.heads ?? 4),
  mlpRatio: 4,
  depth: Number(args.depth ?? 4),
  batch: Number(args.batch ?? 4),
  tokens: Number(args.tokens ?? 288),
};
const reps = Number(args.reps ?? 7);

const rng = new Rng(1);
const xData = rng.fillNormal(new Float32Array(cfg.batch * cfg.tokens * cfg.hidden));
const vecData = rng.fillNormal(new Float32Array(cfg.batch * cfg.hidden));

// Training graph: every weight fed and differentiated, AdamW in TypeScript.
const tg = new Graph();
const st = buildStack(tg, cfg);
const target = tg.input('target', st.out.shape);
const loss = F.mseLoss(st.out, target);
const grads = grad(loss, st.params);
const outputs: Record<string, Value> = { loss };
st.params.forEach((p, i) => {
  outputs[`${p.name}.grad`] = grads[i]!;
});

// The peak over the training graph's largest GEMMs (and a square product), sampled before, between
// and after the timed runs: see lib/peak.ts.
const peak = await MatmulPeak.create(modelGemms(Object.values(outputs)));
await peak.sample();

// Forward: weights frozen into the model, as at inference.
const fg = new Graph();
const fwd = buildStack(fg, cfg);
const fwdParams = initParams(fwd.params, 0);
const fwdSession = await Session.create({
  outputs: { out: fwd.out },
  frozen: new Map(fwd.params.map((p) => [p, fwdParams.get(p.name)!])),
});
const forwardT = await timeRuns(() => fwdSession.run({ x: xData, vec: vecData }), { reps });
await fwdSession.release();
await peak.sample();

const trainSession = await Session.create({ outputs });
const params = initParams(st.params, 0);
// With the trainers' clipping; --adamw typescript: the TypeScript loops instead of the SIMD kernel (the before).
const opt = new AdamW(params, { lr: 1e-4, maxGradNorm: 1, simd: args.adamw !== 'typescript' });
const targetData = rng.fillNormal(new Float32Array(st.out.size));
const adamS: number[] = [];
const step = async () => {
  const res = await trainSession.run({ ...Object.fromEntries(params), x: xData, vec: vecData, target: targetData });
  const named: Record<string, Float32Array> = {};
  for (const p of st.params) named[p.name] = res[`${p.name}.grad`] as Float32Array;
  const t0 = performance.now();
  opt.step(named);
  adamS.push((performance.now() - t0) / 1000);
};
const trainT = await timeRuns(step, { reps });
const [forwardS, trainS] = [forwardT.best, trainT.best];
await peak.sample();
const peakSummary = peak.summary();
await peak.release();
adamS.sort((a, b) => a - b);
const adamMedian = adamS[Math.floor(adamS.length / 2)]!;

const flops = forwardFlops(cfg);
const paramCount = st.params.reduce((n, p) => n + p.size, 0);
const result = {
  bench: 'engine',
  config: cfg,
  params: paramCount,
  matmul_peak_gflops: peakSummary.gflops,
  forward_s: +forwardS.toFixed(4),
  forward_median_s: +forwardT.median.toFixed(4),
  forward_gflops: +(flops / forwardS / 1e9).toFixed(1),
  train_step_s: +trainS.toFixed(4),
  train_step_median_s: +trainT.median.toFixed(4),
  train_gflops: +((3 * flops) / trainS / 1e9).toFixed(1),
  adamw: opt.usesSimd ? 'wasm-simd' : 'typescript',
  adamw_s: +adamMedian.toFixed(4),
  adamw_share: +(adamMedian / trainT.median).toFixed(3),
  ...mfus({ mfu_forward: flops / forwardS / 1e9, mfu_train: (3 * flops) / trainS / 1e9 }, peakSummary),
  peak: peakSummary,
  peak_rss_mib: Math.round(peakRssMiB()),
};
if (args.json) console.log(JSON.stringify(result));
else console.log(result);
