// node --import tsx scripts/train-depth.ts [--minutes 25] [--steps 1200] [--batch 8] [--lr 1e-3] [--seed 1] [--threads 1] [--checkpoint data/depth/depth-estimator.ckpt.safetensors] [--fresh]
//
// Trains the monocular depth estimator (src/model/conditioning/depth-network.ts) with the engine on
// composed emoji scenes whose depth is exact (src/model/pretrain/scene-depth.ts): pretraining's 48
// core concepts (HELD_OUT excluded), half randomScene layouts, half layered ones (1–3 cut-outs of
// any size, anywhere), with a horizontal flip, per-channel colour jitter, occasional greyscale and
// pixel noise. Loss: MSE of the inverse depth. AdamW, linear warm-up then cosine decay over
// --steps, weight EMA; the run stops at --steps or after --minutes, whichever first.
//
// Seeded and resumable: the full state (weights, EMA, AdamW moments, RNG) is checkpointed locally
// every 100 steps and at the end, and a rerun continues from it (--fresh ignores it). The schedule
// is a function of the step, so for a given seed the weights after step n are the same whether or
// not the run was interrupted. The EMA weights ship in F16 with a JSON of the training state and
// the held-out Spearman (src/model/eval/depth-eval.ts).

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AdamW } from '../src/engine/adamw.ts';
import { Rng } from '../src/engine/rng.ts';
import type { RgbImage } from '../src/model/backend.ts';
import { imageToTokens } from '../src/model/codec/patches.ts';
import { CONFIG_METADATA, DEPTH_WEIGHTS_URL, DepthEstimator } from '../src/model/conditioning/depth-estimator.ts';
import { buildDepthGraph, DEPTH_INPUT, DEPTH_NET_CONFIG, depthToTokens, positionFeeds } from '../src/model/conditioning/depth-network.ts';
import { heldOutDepthCases, scoreDepth } from '../src/model/eval/depth-eval.ts';
import { initialWeight } from '../src/model/flux-mini/init.ts';
import { atomicWrite } from '../src/model/pretrain/atomic-write.ts';
import { PRETRAIN_CATEGORIES } from '../src/model/pretrain/pretrain.ts';
import { layeredScene, renderSceneDepth } from '../src/model/pretrain/scene-depth.ts';
import { CORE_CONCEPTS, HELD_OUT, listConcepts, loadSprites, randomScene, renderScene, type Sprite } from '../src/model/pretrain/scenes.ts';
import { writeTensors } from '../src/model/tensors.ts';
import { loadCheckpoint, saveCheckpoint } from '../src/model/train/checkpoint.ts';
import { TrainingStep, trainingOutputs } from '../src/model/train/step.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '25' },
    steps: { type: 'string', default: '1200' },
    batch: { type: 'string', default: '8' },
    lr: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    'ema-decay': { type: 'string', default: '0.99' },
    checkpoint: { type: 'string', default: 'data/depth/depth-estimator.ckpt.safetensors' },
    out: { type: 'string', default: fileURLToPath(DEPTH_WEIGHTS_URL) },
    fresh: { type: 'boolean', default: false },
  },
});

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const deadline = Date.now() + Number(values.minutes) * 60_000;
const maxSteps = Number(values.steps);
const B = Number(values.batch);
const baseLr = Number(values.lr);
const seed = Number(values.seed);
const threads = Number(values.threads);
const emaDecay = Number(values['ema-decay']);
const WARMUP = 60;
const SIZE = 128;
const c = DEPTH_NET_CONFIG;
const rows = SIZE / c.patch;
const L = rows * rows;

interface DepthTrainState {
  step: number;
  samples: number;
  seconds: number;
  /** (step, mean loss over the last 50 steps) */
  losses: [number, number][];
  seed: number;
  batch: number;
  lr: number;
  steps_planned: number;
  threads: number;
}

/** Linear warm-up, then cosine from lr to 5% of it at --steps. */
function lrAt(step: number): number {
  if (step < WARMUP) return (baseLr * (step + 1)) / WARMUP;
  const t = Math.min(1, (step - WARMUP) / Math.max(1, maxSteps - WARMUP));
  return baseLr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

/** Flip, colour jitter, greyscale, noise: applied to the picture (the flip to the depth too), in place. */
function augment(rng: Rng, img: RgbImage, depth: Float32Array): void {
  const { width: W, height: H, data } = img;
  if (rng.uniform() < 0.5) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W / 2; x++) {
        const a = y * W + x;
        const b = y * W + (W - 1 - x);
        const t = depth[a]!;
        depth[a] = depth[b]!;
        depth[b] = t;
        for (let ch = 0; ch < 3; ch++) {
          const u = data[a * 3 + ch]!;
          data[a * 3 + ch] = data[b * 3 + ch]!;
          data[b * 3 + ch] = u;
        }
      }
    }
  }
  const jitter = rng.uniform() < 0.8;
  const gain = [0, 1, 2].map(() => (jitter ? 0.75 + 0.5 * rng.uniform() : 1));
  const offset = [0, 1, 2].map(() => (jitter ? 40 * (rng.uniform() - 0.5) : 0));
  const grey = rng.uniform() < 0.1;
  const noise = rng.uniform() < 0.3 ? 8 * rng.uniform() : 0;
  for (let i = 0; i < W * H; i++) {
    const m = grey ? (data[i * 3]! + data[i * 3 + 1]! + data[i * 3 + 2]!) / 3 : 0;
    for (let ch = 0; ch < 3; ch++) {
      const v = grey ? m : data[i * 3 + ch]!;
      data[i * 3 + ch] = Math.max(0, Math.min(255, Math.round(v * gain[ch]! + offset[ch]! + (noise ? noise * rng.normal() : 0))));
    }
  }
}

function batchOf(rng: Rng, sprites: ReadonlyMap<string, Sprite>, names: readonly string[]): { img: Float32Array; target: Float32Array } {
  const img = new Float32Array(B * L * 3 * c.patch * c.patch);
  const target = new Float32Array(B * L * c.patch * c.patch);
  for (let b = 0; b < B; b++) {
    const spec = rng.uniform() < 0.5 ? randomScene(rng, names).spec : layeredScene(rng, names);
    const picture = renderScene(spec, sprites, SIZE, SIZE);
    const depth = renderSceneDepth(spec, sprites, SIZE, SIZE);
    augment(rng, picture, depth);
    img.set(imageToTokens(picture, c.patch), b * L * 3 * c.patch * c.patch);
    depthToTokens(depth, SIZE, SIZE, c.patch, target, b * L * c.patch * c.patch);
  }
  return { img, target };
}

const concepts = listConcepts().filter((x) => PRETRAIN_CATEGORIES.includes(x.category) && CORE_CONCEPTS.includes(x.name) && !HELD_OUT.includes(x.name));
const names = concepts.map((x) => x.name);
const sprites = await loadSprites(concepts);
const g = buildDepthGraph(c, B, L);
const shapes = new Map([...g.store.params].map(([k, v]) => [k, v.shape]));
const step = await TrainingStep.create(trainingOutputs(g.out, g.store.params).outputs, { threads });
const pos = positionFeeds(c, rows, rows, B);

let state: DepthTrainState = { step: 0, samples: 0, seconds: 0, losses: [], seed, batch: B, lr: baseLr, steps_planned: maxSteps, threads };
const params = new Map<string, Float32Array>();
let ema = new Map<string, Float32Array>();
let rng = new Rng(seed);
let adamState: ReturnType<AdamW['state']> | undefined;
if (!values.fresh && existsSync(values.checkpoint!)) {
  const ck = loadCheckpoint(readFileSync(values.checkpoint!));
  for (const [k, v] of ck.params) (k.startsWith('ema/') ? ema : params).set(k.replace(/^ema\//, ''), v);
  adamState = ck.adam;
  rng = Rng.fromState(ck.rng);
  state = { ...(ck.info as unknown as DepthTrainState), steps_planned: maxSteps, threads };
  log(`resumed from ${values.checkpoint} at step ${state.step}`);
} else {
  const init = new Rng(seed);
  for (const [k, s] of shapes) params.set(k, initialWeight(k, s, init));
  ema = new Map([...params].map(([k, v]) => [k, Float32Array.from(v)]));
  log(`initialised ${shapes.size} tensors from seed ${seed}`);
}
const paramCount = [...params.values()].reduce((n, v) => n + v.length, 0);
log(`depth estimator: ${(paramCount / 1e6).toFixed(3)} M parameters, ${names.length} concepts, batch ${B} at ${SIZE} px, ${threads} thread(s)`);
const opt = new AdamW(params, { lr: baseLr, weightDecay: 0.01, maxGradNorm: 1 });
if (adamState) opt.load(adamState);

const checkpoint = () => {
  const all = new Map(params);
  const allShapes = new Map(shapes);
  const adam = opt.state();
  for (const [k, v] of ema) {
    all.set(`ema/${k}`, v);
    allShapes.set(`ema/${k}`, shapes.get(k)!);
    adam.m[`ema/${k}`] = new Float32Array(v.length);
    adam.v[`ema/${k}`] = new Float32Array(v.length);
  }
  atomicWrite(values.checkpoint!, saveCheckpoint({ step: state.step, params: all, shapes: allShapes, adam, rng: rng.state(), info: { ...state } }));
};

let window: number[] = [];
let windowStart = performance.now();
while (state.step < maxSteps && Date.now() < deadline) {
  const t0 = performance.now();
  const batch = batchOf(rng, sprites, names);
  // EMA warm-up as in pretraining: early on the average must not be dominated by the initial weights
  const d = Math.min(emaDecay, (1 + state.step) / (10 + state.step));
  const { loss } = await step.run(opt, { [DEPTH_INPUT.img]: batch.img, ...pos }, batch.target, {
    lr: lrAt(state.step),
    ema: { decay: d, weights: ema },
    diverged: (l) => new Error(`train-depth: loss is ${l} at step ${state.step}`),
  });
  state.step++;
  state.samples += B;
  state.seconds += (performance.now() - t0) / 1000;
  window.push(loss);
  if (state.step % 50 === 0) {
    const mean = window.reduce((a, b) => a + b, 0) / window.length;
    state.losses.push([state.step, +mean.toFixed(6)]);
    log(
      `step ${state.step} loss ${mean.toFixed(5)} lr ${lrAt(state.step).toExponential(2)} ${((performance.now() - windowStart) / window.length / 1000).toFixed(2)} s/step (${(state.seconds / 60).toFixed(1)} min total)`,
    );
    window = [];
    windowStart = performance.now();
  }
  if (state.step % 100 === 0) checkpoint();
}
checkpoint();
await step.release();
log(`stopped at step ${state.step} after ${(state.seconds / 60).toFixed(1)} min of training`);

// Ship the EMA weights, then score them through the runtime path on the held-out scenes.
const out = new Map([...ema].map(([k, v]) => [k, { shape: [...shapes.get(k)!], data: v }]));
const metadata = { format: 'pt', model: 'flux-mini-depth-estimator', step: String(state.step), [CONFIG_METADATA]: JSON.stringify(c) };
atomicWrite(values.out!, writeTensors(out, 'F16', metadata));
const heldOut = listConcepts().filter((x) => HELD_OUT.includes(x.name) || CORE_CONCEPTS.includes(x.name));
const cases = heldOutDepthCases(await loadSprites(heldOut));
const estimator = await DepthEstimator.load(threads, values.out!);
const score = await scoreDepth((img) => estimator.estimate(img), cases);
await estimator.release();
const finalLoss = state.losses.at(-1)?.[1] ?? window.reduce((a, b) => a + b, 0) / Math.max(1, window.length);
const summary = {
  model: 'flux-mini depth estimator',
  parameters: paramCount,
  config: c,
  steps: state.step,
  samples: state.samples,
  training_seconds: Math.round(state.seconds),
  final_loss: finalLoss,
  held_out: {
    scenes: cases.length,
    spearman_mean: +score.mean.toFixed(4),
    spearman_min: +score.min.toFixed(4),
    spearman: score.rhos.map((r) => +r.toFixed(4)),
  },
  state,
};
atomicWrite(values.out!.replace(/\.safetensors$/, '.json'), `${JSON.stringify(summary, null, 1)}\n`);
log(`held-out Spearman mean ${score.mean.toFixed(4)} (min ${score.min.toFixed(4)}) over ${cases.length} scenes; weights in ${values.out}`);
