// npm run bench:breakdown -- [--config models/flux-mini/config.json] [--reps 4] [--samples 1] [--skip-profile] [--settings [--only a,b]] [--rounds 2] [--ops] [--only-work forward,train_step,sample] [--json]
// Where the time of a flux-mini forward (batch 4), a full training step (batch 4, AdamW included)
// and a 24-step CFG sample (one 128 px image: a batch of 2, cond + uncond) goes, from ONNX
// Runtime's per-node profile: matmuls (2-D products: every Linear and its gradients), attention
// (batched products and softmax), elementwise (and norms, reductions), layout (transpose, reshape,
// concat, slice, …), ORT's own overhead (a run's time outside its nodes) and JS (the rest of the wall
// time: feeds, outputs, AdamW, guidance, Euler steps). With --settings it times the ORT session
// settings that could matter (optimisation level, threads, arena, memory patterns, prepacking,
// spinning) on the forward and on the training step's ORT run, in the same process, each against the
// default in A B A B order, `rounds` times (the machine is shared: its load drifts within minutes).

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW } from '../src/engine/adamw.ts';
import { Rng } from '../src/engine/rng.ts';
import { type OrtTuning, Session, setOrtTuning } from '../src/engine/session.ts';
import { buildFluxGraph } from '../src/model/flux/build.ts';
import { fluxFeeds } from '../src/model/flux/feeds.ts';
import { parsePrediction } from '../src/model/flux/prediction.ts';
import { FluxRunner } from '../src/model/flux/runner.ts';
import { buildFluxTrainingGraph } from '../src/model/flux/training.ts';
import { frozenWeights } from '../src/model/flux/weights.ts';
import { sample } from '../src/model/sampling/sampler.ts';
import { TrainingStep } from '../src/model/train/step.ts';
import { matmulFlops } from './lib/flops.ts';
import { gridIds, loadFluxParams, randomFluxBatch, randomFluxWeights } from './lib/flux-setup.ts';
import { parseArgs } from './lib/timing.ts';

const args = parseArgs(process.argv.slice(2));
const configPath = String(args.config ?? 'models/flux-mini/config.json');
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const params = loadFluxParams(configPath);
const prediction = config.prediction ? parsePrediction(config.prediction) : undefined;
const reps = Number(args.reps ?? 4);
const trainShape = { batch: 4, imgTokens: 256, txtTokens: 32 };
const weights = randomFluxWeights(params);
const rng = new Rng(0);
const trainFeeds = fluxFeeds(params, trainShape, 'float32', randomFluxBatch(params, trainShape, rng));
const load = [loadavg()[0]!];

// ---------------------------------------------------------------- the profile

const CATEGORIES = ['matmul', 'attention', 'elementwise', 'layout', 'ort_overhead', 'js'] as const;
type Category = (typeof CATEGORIES)[number];
const LAYOUT = new Set([
  'Transpose',
  'Reshape',
  'Concat',
  'Slice',
  'Split',
  'Expand',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Pad',
  'Identity',
  'Cast',
  'Tile',
  'ScatterND',
  'ScatterElements',
]);
const PRODUCTS = new Set(['MatMul', 'Gemm', 'FusedMatMul', 'FusedGemm']);

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] };
}

function category(e: ProfileEvent): Exclude<Category, 'ort_overhead' | 'js'> {
  const op = e.args?.op_name ?? '';
  const ranks = (e.args?.input_type_shape ?? []).map((t) => Object.values(t)[0]?.length ?? 0);
  if (PRODUCTS.has(op)) return ranks[0]! >= 3 && ranks[1]! >= 3 ? 'attention' : 'matmul';
  if (op === 'Softmax') return 'attention';
  return LAYOUT.has(op) ? 'layout' : 'elementwise';
}

/** Seconds per category over the runs after the first `skipRuns` (warm-up) of every profile under `dir`. */
function readProfiles(dir: string, skipRuns: number): { ortRun: number; nodes: Record<string, number>; ops: Record<string, number> } {
  const nodes: Record<string, number> = {};
  const ops: Record<string, number> = {};
  let ortRun = 0;
  for (const file of readdirSync(dir)) {
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    const from = runs.length > skipRuns ? runs[skipRuns]!.ts : Infinity;
    for (const r of runs) if (r.ts >= from) ortRun += r.dur / 1e6;
    for (const e of events)
      if (e.cat === 'Node' && e.ts >= from && e.name.endsWith('_kernel_time')) {
        const c = category(e);
        nodes[c] = (nodes[c] ?? 0) + e.dur / 1e6;
        const op = `${c}:${e.args?.op_name ?? '?'}`;
        ops[op] = (ops[op] ?? 0) + e.dur / 1e6;
      }
  }
  return { ortRun, nodes, ops };
}

interface Breakdown {
  wall_s: number;
  /** Share of the wall time per category. */
  share: Record<string, number>;
  /** Matmul FLOPs of the graph per second of matmul + attention kernel time. */
  product_gflops: number;
  /** With --ops: share of the wall time per `category:op type`, largest first. */
  ops?: Record<string, number>;
}

/**
 * Profiles `runs` calls of `work` (after `warmup` unprofiled-in-the-sums calls) on sessions that
 * `setup` creates while profiling is on; `extra` splits named JS parts (AdamW) out of `js`.
 */
async function profile(
  setup: () => Promise<{ work: () => Promise<Record<string, number> | undefined>; release: () => Promise<void>; flopsPerRun: number; ortRunsPerCall: number }>,
  calls: number,
  warmup = 1,
): Promise<Breakdown> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxtune-profile-'));
  setOrtTuning({ profilePrefix: join(dir, 'p') });
  const { work, release, flopsPerRun, ortRunsPerCall } = await setup();
  setOrtTuning({});
  for (let i = 0; i < warmup; i++) await work();
  const extra: Record<string, number> = {};
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) for (const [k, v] of Object.entries((await work()) ?? {})) extra[k] = (extra[k] ?? 0) + v;
  const wall = (performance.now() - t0) / 1000;
  await release(); // writes the profiles
  const { ortRun, nodes, ops } = readProfiles(dir, warmup * ortRunsPerCall);
  rmSync(dir, { recursive: true, force: true });
  const seconds: Record<string, number> = { ...nodes };
  seconds.ort_overhead = ortRun - Object.values(nodes).reduce((a, b) => a + b, 0);
  const extraTotal = Object.values(extra).reduce((a, b) => a + b, 0);
  seconds.js = wall - ortRun - extraTotal;
  Object.assign(seconds, extra);
  const share: Record<string, number> = {};
  for (const [k, v] of Object.entries(seconds)) share[k] = +(v / wall).toFixed(3);
  const productS = (nodes.matmul ?? 0) + (nodes.attention ?? 0);
  const opShares = Object.entries(ops)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => [k, +(v / wall).toFixed(3)] as const)
    .filter(([, v]) => v >= 0.002);
  return {
    wall_s: +(wall / calls).toFixed(4),
    share,
    product_gflops: +((flopsPerRun * calls * ortRunsPerCall) / productS / 1e9).toFixed(1),
    ...(args.ops ? { ops: Object.fromEntries(opShares) } : {}),
  };
}

// ---------------------------------------------------------------- the three workloads

const fg = buildFluxGraph(params, trainShape, { prediction });
const tg = buildFluxTrainingGraph(params, trainShape, { prediction });

async function forwardWork() {
  const session = await Session.create({ outputs: { out: fg.out }, frozen: frozenWeights(fg.store.params, weights) });
  return {
    work: async () => {
      await session.run(trainFeeds);
      return undefined;
    },
    release: () => session.release(),
    flopsPerRun: matmulFlops([fg.out]),
    ortRunsPerCall: 1,
  };
}

async function trainWork() {
  const step = await TrainingStep.create(tg.outputs, {});
  const trained = new Map([...tg.trainable.keys()].map((k) => [k, Float32Array.from(weights.get(k)!.data)]));
  const opt = new AdamW(trained, { lr: 1e-4, maxGradNorm: 1 });
  const target = rng.fillNormal(new Float32Array(tg.target.size));
  const diverged = (loss: number) => new Error(`bench: loss is ${loss}`);
  return {
    work: async () => ({ adamw: (await step.run(opt, trainFeeds, target, { lr: 1e-4, diverged })).updateMs / 1000 }),
    release: () => step.release(),
    flopsPerRun: matmulFlops(Object.values(tg.outputs)),
    ortRunsPerCall: 1,
  };
}

const steps = Number(config.sampling?.steps ?? 24);
async function sampleWork() {
  const shape = { batch: 2, imgTokens: 256, txtTokens: 32 };
  const runner = await FluxRunner.create({ params, weights, shape, prediction });
  const cond = { txt: rng.fillNormal(new Float32Array(shape.txtTokens * params.context_in_dim)), y: rng.fillNormal(new Float32Array(params.vec_in_dim)) };
  const uncond = { txt: rng.fillNormal(new Float32Array(cond.txt.length)), y: rng.fillNormal(new Float32Array(cond.y.length)) };
  const noise = rng.fillNormal(new Float32Array(shape.imgTokens * params.out_channels));
  const scale = Number(config.sampling?.guidance ?? 4);
  return {
    work: async () => {
      await sample({ runner, cond, imgIds: gridIds(1, shape.imgTokens), noise, steps, cfg: { scale, uncond, rescale: config.sampling?.cfg_rescale ?? 0 } });
      return undefined;
    },
    release: () => runner.release(),
    flopsPerRun: matmulFlops([runner.flux.out]),
    ortRunsPerCall: steps,
  };
}

// --only-work forward,train_step,sample profiles a subset (quicker A/B runs of one workload).
const works = typeof args['only-work'] === 'string' ? new Set(args['only-work'].split(',')) : undefined;
const wanted = (name: string) => !args['skip-profile'] && (!works || works.has(name));
const breakdown: Record<string, Breakdown> = {};
if (wanted('forward')) breakdown.forward = await profile(forwardWork, reps);
if (wanted('train_step')) breakdown.train_step = await profile(trainWork, reps);
if (wanted('sample')) breakdown[`sample_${steps}_steps_cfg`] = await profile(sampleWork, Number(args.samples ?? 1));
load.push(loadavg()[0]!);

// ---------------------------------------------------------------- ORT settings

const VARIANTS: Record<string, OrtTuning> = {
  default: {},
  opt_extended: { optimization: 'extended' },
  opt_basic: { optimization: 'basic' },
  threads_1: { threads: 1 },
  no_arena: { cpuMemArena: false },
  no_mem_pattern: { memPattern: false },
  no_prepacking: { sessionConfig: { disable_prepacking: '1' } },
  no_spinning: { sessionConfig: { 'intra_op.allow_spinning': '0' } },
};

interface VariantSessions {
  fwd: Awaited<ReturnType<typeof forwardWork>>;
  train: Awaited<ReturnType<typeof trainWork>>;
}

async function variantSessions(t: OrtTuning): Promise<VariantSessions> {
  setOrtTuning(t);
  try {
    return { fwd: await forwardWork(), train: await trainWork() };
  } finally {
    setOrtTuning({});
  }
}

/** Best-of-`reps` forward and training-step ORT run (AdamW subtracted), after one warm-up each. */
async function timeSessions({ fwd, train }: VariantSessions): Promise<{ forward: number; train_run: number }> {
  const best = async (fn: () => Promise<number>) => {
    await fn();
    let b = Infinity;
    for (let i = 0; i < reps; i++) b = Math.min(b, await fn());
    return b;
  };
  const forward = await best(async () => {
    const t0 = performance.now();
    await fwd.work();
    return (performance.now() - t0) / 1000;
  });
  const train_run = await best(async () => {
    const t0 = performance.now();
    const r = await train.work();
    return (performance.now() - t0) / 1000 - r.adamw;
  });
  return { forward, train_run };
}

let settings: Record<string, { forward_vs_default: number; train_run_vs_default: number; forward_s: number; train_run_s: number }> | undefined;
if (args.settings) {
  // Each variant against the default in A B A B order (the load drifts within minutes), `rounds` times.
  const only = typeof args.only === 'string' ? new Set(args.only.split(',')) : undefined;
  const ratios: Record<string, { f: number[]; t: number[]; fs: number[]; ts: number[] }> = {};
  for (let round = 0; round < Number(args.rounds ?? 2); round++) {
    const base = await variantSessions({});
    for (const [name, t] of Object.entries(VARIANTS)) {
      if (name === 'default' || (only && !only.has(name))) continue;
      const variant = await variantSessions(t);
      const [d1, v1, d2, v2] = [await timeSessions(base), await timeSessions(variant), await timeSessions(base), await timeSessions(variant)];
      await variant.fwd.release();
      await variant.train.release();
      ratios[name] ??= { f: [], t: [], fs: [], ts: [] };
      const e = ratios[name];
      e.f.push((v1.forward + v2.forward) / (d1.forward + d2.forward));
      e.t.push((v1.train_run + v2.train_run) / (d1.train_run + d2.train_run));
      e.fs.push(Math.min(v1.forward, v2.forward));
      e.ts.push(Math.min(v1.train_run, v2.train_run));
      ratios.default ??= { f: [], t: [], fs: [], ts: [] };
      ratios.default.f.push(1);
      ratios.default.t.push(1);
      ratios.default.fs.push(Math.min(d1.forward, d2.forward));
      ratios.default.ts.push(Math.min(d1.train_run, d2.train_run));
    }
    await base.fwd.release();
    await base.train.release();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  settings = Object.fromEntries(
    Object.entries(ratios).map(([k, r]) => [
      k,
      {
        forward_vs_default: +median(r.f).toFixed(3),
        train_run_vs_default: +median(r.t).toFixed(3),
        forward_s: +Math.min(...r.fs).toFixed(4),
        train_run_s: +Math.min(...r.ts).toFixed(4),
      },
    ]),
  );
  load.push(loadavg()[0]!);
}

const result = { bench: 'breakdown', config: configPath, load_1m: load.map((l) => +l.toFixed(2)), ...breakdown, ...(settings ? { settings } : {}) };
if (args.json) console.log(JSON.stringify(result));
else {
  const rows: Record<string, Record<string, number | string>> = {};
  for (const [name, b] of Object.entries(breakdown))
    rows[name] = {
      wall_s: b.wall_s,
      ...Object.fromEntries(Object.entries(b.share).map(([k, v]) => [k, `${(v * 100).toFixed(1)}%`])),
      product_gflops: b.product_gflops,
    };
  console.table(rows);
  if (args.ops) for (const [name, b] of Object.entries(breakdown)) console.log(name, b.ops);
  if (settings) console.table(settings);
  console.log('load (1 min):', result.load_1m.join(', '));
}
