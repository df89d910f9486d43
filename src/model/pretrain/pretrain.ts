// Pretraining flux-mini from scratch on composed emoji scenes: the text encoder and the FLUX
// transformer learn jointly with rectified flow, alternating a cheap 64 px batch (layout, colour)
// with a native 128 px batch. Seeded and resumable: the full trainer state (weights, EMA, AdamW
// moments, RNG) is checkpointed locally, and the EMA weights are exported to the model folder in
// fp16 at every checkpoint, which is what ships and what a fresh clone resumes from.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdamW } from '../../engine/adamw.ts';
import { Rng } from '../../engine/rng.ts';
import { imageIds } from '../codec/patches.ts';
import { FLUX_INPUT } from '../flux/build.ts';
import { jointIds } from '../flux/feeds.ts';
import { ropeTables } from '../flux/rope.ts';
import { COLORS } from '../flux-mini/caption-vocabulary.ts';
import { type FluxMiniConfig, textTokens, trainingTimesteps } from '../flux-mini/config.ts';
import { buildJointGraph, IDS_INPUT, WORD_WEIGHTS_INPUT, WORDS_INPUT } from '../flux-mini/graph.ts';
import { initialWeight } from '../flux-mini/init.ts';
import { readTensors, writeTensors } from '../tensors.ts';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.ts';
import { flowBatch } from '../train/flow.ts';
import { TrainingStep, trainingOutputs } from '../train/step.ts';
import { atomicWrite } from './atomic-write.ts';
import { type ShapeSource, sceneBatch } from './data.ts';
import { CORE_CONCEPTS, HELD_OUT, listConcepts, loadSprites } from './scenes.ts';
import { shapeColours, shapeSprites } from './shapes.ts';

export const PRETRAIN_CATEGORIES = ['Animals & Nature', 'Food & Drink'];
export const WEIGHTS_FILE = 'flux-mini.safetensors';
export const STATE_FILE = 'pretrain-state.json';
export const VOCABULARY_FILE = 'vocabulary.json';

export interface PretrainOptions {
  config: FluxMiniConfig;
  modelDir: URL;
  /** Local, uncommitted full checkpoint (weights + EMA + AdamW + RNG). */
  checkpointPath: string;
  seed: number;
  lr: number;
  /** Stop after this many steps in total (across resumes) or at the deadline, whichever first. */
  maxSteps: number;
  deadline: number;
  checkpointEvery: number;
  emaDecay: number;
  /** Every n-th step is a native-resolution batch, the rest are low-resolution ones. */
  highEvery: number;
  /**
   * Warmup-stable-decay: over this many final milliseconds before the deadline the learning rate
   * falls linearly to 10%. Runs end by the clock, so the decay is timed by it too (0 = constant).
   */
  decayMs?: number;
  /** Which emoji the scenes show: the focused CORE_CONCEPTS (default) or every Animals & Nature / Food & Drink one. */
  vocabulary?: 'core' | 'all';
  /** Fraction of scenes that draw a procedural shape (shapes.ts) instead of emoji; 0/absent = emoji only. */
  shapeShare?: number;
  /** Restart the EMA from the current weights (its warm-up counts from this run's first step). */
  resetEma?: boolean;
  /**
   * Re-initialise the parameters whose keys start with one of these prefixes (after resuming) and
   * restart the EMA and the optimiser: e.g. `final_layer.linear` when the prediction target changes.
   */
  reinit?: readonly string[];
  threads?: number;
  log: (line: string) => void;
}

function learningRateAt(o: PretrainOptions, since: number, warmup: number): number {
  if (since < warmup) return (o.lr * (since + 1)) / warmup;
  if (!o.decayMs) return o.lr;
  const left = Math.max(0, o.deadline - Date.now());
  return o.lr * (0.1 + 0.9 * Math.min(1, left / o.decayMs));
}

export interface PretrainState {
  step: number;
  samples: number;
  seconds: number;
  /** (step, mean loss over the last logging window) */
  losses: [number, number][];
  concepts: number;
  seed: number;
  /** The shape share of the current run and the step it started at (absent before shapes existed). */
  shapes?: { share: number; since: number };
}

interface Resolution {
  size: number;
  batch: number;
  tokens: number;
  step: TrainingStep;
  pe: { cos: Float32Array; sin: Float32Array };
}

async function buildResolution(c: FluxMiniConfig, size: number, batch: number, threads?: number): Promise<Resolution> {
  const patch = c.codec.patch;
  const grid = { rows: size / patch, cols: size / patch, patch };
  const tokens = grid.rows * grid.cols;
  const jg = buildJointGraph(c, batch, tokens);
  const step = await TrainingStep.create(trainingOutputs(jg.out, jg.store.params).outputs, { threads });
  const ids = imageIds(grid);
  const batchIds = new Float32Array(batch * ids.length);
  for (let b = 0; b < batch; b++) batchIds.set(ids, b * ids.length);
  const shape = { batch, imgTokens: tokens, txtTokens: textTokens(c) };
  const t = ropeTables(jointIds(shape, batchIds), batch, shape.txtTokens + tokens, c.flux.axes_dim, c.flux.theta);
  return { size, batch, tokens, step, pe: { cos: Float32Array.from(t.cos), sin: Float32Array.from(t.sin) } };
}

export async function pretrain(o: PretrainOptions): Promise<PretrainState> {
  if (!Number.isInteger(o.highEvery) || o.highEvery < 1) throw new Error(`pretrain: highEvery must be a positive integer, got ${o.highEvery}`);
  if (o.decayMs !== undefined && !(o.decayMs >= 0)) throw new Error(`pretrain: decayMs must be ≥ 0, got ${o.decayMs}`);
  const c = o.config;
  const vocabulary = o.vocabulary ?? 'core';
  if (vocabulary !== 'core' && vocabulary !== 'all') throw new Error(`pretrain: vocabulary must be 'core' or 'all', got ${vocabulary}`);
  const concepts = listConcepts().filter(
    (x) => PRETRAIN_CATEGORIES.includes(x.category) && !HELD_OUT.includes(x.name) && (vocabulary === 'all' || CORE_CONCEPTS.includes(x.name)),
  );
  if (vocabulary === 'core' && concepts.length !== CORE_CONCEPTS.length) throw new Error('pretrain: a core concept has no emoji (or is held out)');
  const sprites = await loadSprites(concepts);
  const names = concepts.map((x) => x.name);
  const shareOfShapes = o.shapeShare ?? 0;
  if (!(shareOfShapes >= 0 && shareOfShapes <= 1)) throw new Error(`pretrain: shapeShare must be in [0, 1], got ${o.shapeShare}`);
  let shapeSource: ShapeSource | undefined;
  if (shareOfShapes > 0) {
    const drawn = shapeSprites();
    for (const [k, v] of drawn.sprites) sprites.set(k, v);
    shapeSource = { names: [...drawn.specs.keys()], colours: (n) => shapeColours(drawn.specs.get(n)!), share: shareOfShapes };
  }
  // The built-in captioner chooses among exactly these.
  atomicWrite(fileURLToPath(new URL(VOCABULARY_FILE, o.modelDir)), `${JSON.stringify({ concepts: names, colors: Object.keys(COLORS) }, null, 1)}\n`);
  const low = await buildResolution(c, c.codec.low_size, 8, o.threads);
  const high = await buildResolution(c, c.codec.native_size, 4, o.threads);
  const shapes = new Map<string, readonly number[]>();
  {
    const jg = buildJointGraph(c, 1, 4);
    for (const [k, v] of jg.store.params) shapes.set(k, v.shape);
  }

  // Resume: the local full checkpoint if present, else the shipped EMA weights, else from scratch.
  const weightsPath = fileURLToPath(new URL(WEIGHTS_FILE, o.modelDir));
  const statePath = fileURLToPath(new URL(STATE_FILE, o.modelDir));
  let state: PretrainState = { step: 0, samples: 0, seconds: 0, losses: [], concepts: concepts.length, seed: o.seed };
  const params = new Map<string, Float32Array>();
  let ema = new Map<string, Float32Array>();
  let rng = new Rng(o.seed);
  let adamState: ReturnType<AdamW['state']> | undefined;
  if (existsSync(o.checkpointPath)) {
    const ck = loadCheckpoint(readFileSync(o.checkpointPath));
    for (const [k, v] of ck.params) {
      if (k.startsWith('ema/')) ema.set(k.slice(4), v);
      else params.set(k, v);
    }
    adamState = ck.adam;
    rng = Rng.fromState(ck.rng);
    state = ck.info as unknown as PretrainState;
    o.log(`resumed from local checkpoint at step ${state.step}`);
  } else if (existsSync(weightsPath)) {
    const { tensors } = readTensors(readFileSync(weightsPath));
    for (const [k, t] of tensors) params.set(k, Float32Array.from(t.data));
    if (existsSync(statePath)) state = JSON.parse(readFileSync(statePath, 'utf8')) as PretrainState;
    rng = new Rng(o.seed + state.step);
    o.log(`resumed from shipped weights at step ${state.step} (fresh optimizer state)`);
  } else {
    const init = new Rng(o.seed);
    for (const [k, s] of shapes) params.set(k, initialWeight(k, s, init));
    o.log(`initialised ${shapes.size} tensors from seed ${o.seed}`);
  }
  const reinit = o.reinit ?? [];
  // a tensor the resumed weights lack is fine only if it is re-initialised (a newly added module)
  for (const k of shapes.keys()) if (!params.has(k) && !reinit.some((p) => k.startsWith(p))) throw new Error(`pretrain: no weights for ${k}`);
  if (reinit.length > 0) {
    const fresh = new Rng(o.seed + state.step);
    const keys = [...shapes.keys()].filter((k) => reinit.some((p) => k.startsWith(p)));
    if (keys.length === 0) throw new Error(`pretrain: no parameter matches ${reinit.join(', ')}`);
    for (const k of keys) params.set(k, initialWeight(k, shapes.get(k)!, fresh));
    adamState = undefined;
    o.log(`re-initialised ${keys.join(', ')}; fresh optimizer state and EMA`);
  }
  const restartEma = ema.size === 0 || o.resetEma === true || reinit.length > 0;
  if (restartEma) ema = new Map([...params].map(([k, v]) => [k, Float32Array.from(v)]));
  const paramCount = [...params.values()].reduce((n, v) => n + v.length, 0);
  // the concept count of the current run (a resumed state carries the previous run's)
  state.concepts = concepts.length;
  if (shareOfShapes > 0 && state.shapes?.share !== shareOfShapes) state.shapes = { share: shareOfShapes, since: state.step };
  else if (shareOfShapes === 0) delete state.shapes;
  o.log(
    `flux-mini: ${(paramCount / 1e6).toFixed(2)} M parameters, ${concepts.length} concepts${shapeSource ? `, ${shapeSource.names.length} shapes in ${Math.round(shareOfShapes * 100)}% of scenes` : ''}`,
  );

  const opt = new AdamW(params, { lr: o.lr, weightDecay: 0.01, maxGradNorm: 1 });
  if (adamState) opt.load(adamState);
  const warmup = adamState ? 0 : 300;
  const startStep = state.step;
  const emaStart = restartEma ? startStep : 0;

  const checkpoint = () => {
    mkdirSync(dirname(o.checkpointPath), { recursive: true });
    const all = new Map(params);
    const allShapes = new Map(shapes);
    const adam = opt.state();
    for (const [k, v] of ema) {
      all.set(`ema/${k}`, v);
      allShapes.set(`ema/${k}`, shapes.get(k)!);
      adam.m[`ema/${k}`] = new Float32Array(v.length);
      adam.v[`ema/${k}`] = new Float32Array(v.length);
    }
    atomicWrite(o.checkpointPath, saveCheckpoint({ step: state.step, params: all, shapes: allShapes, adam, rng: rng.state(), info: { ...state } }));
    const out = new Map([...ema].map(([k, v]) => [k, { shape: [...shapes.get(k)!], data: v }]));
    atomicWrite(weightsPath, writeTensors(out, 'F16', { format: 'pt', model: 'flux-mini', step: String(state.step) }));
    atomicWrite(statePath, `${JSON.stringify(state, null, 1)}\n`);
  };

  let window: number[] = [];
  let windowStart = performance.now();
  // where a step's time goes (ms summed over the logging window): scene rendering + noising, the
  // ONNX Runtime forward/backward, the AdamW + EMA update. onnxruntime-node runs a session
  // synchronously on the main thread, so the JS parts cannot overlap it: they add to every step.
  const spent = { data: 0, run: 0, update: 0 };
  while (state.step < o.maxSteps && Date.now() < o.deadline) {
    const t0 = performance.now();
    const res = state.step % o.highEvery === o.highEvery - 1 ? high : low;
    const batch = sceneBatch(rng, sprites, names, {
      batch: res.batch,
      size: res.size,
      patch: c.codec.patch,
      maxBytes: c.text_encoder.max_bytes,
      wordBuckets: c.text_encoder.word_buckets,
      captionDropout: 0.1,
      shapes: shapeSource,
    });
    const flow = flowBatch(rng, batch.x0, res.tokens, trainingTimesteps(c));
    const t1 = performance.now();
    // EMA warm-up (as in timm/diffusers): early on the average must not be dominated by the zero-output init.
    const e0 = state.step - emaStart;
    const d = Math.min(o.emaDecay, (1 + e0) / (10 + e0));
    const inputs = {
      [IDS_INPUT]: batch.ids,
      ...(c.text_encoder.word_buckets ? { [WORDS_INPUT]: batch.words } : {}),
      ...(c.text_encoder.pooled_words ? { [WORD_WEIGHTS_INPUT]: batch.wordWeights } : {}),
      [FLUX_INPUT.img]: flow.xt,
      [FLUX_INPUT.timesteps]: flow.t,
      [FLUX_INPUT.peCos]: res.pe.cos,
      [FLUX_INPUT.peSin]: res.pe.sin,
    };
    const { loss, runMs, updateMs } = await res.step.run(opt, inputs, flow.target, {
      lr: learningRateAt(o, state.step - startStep, warmup),
      ema: { decay: d, weights: ema },
      diverged: (l) => new Error(`pretrain: loss is ${l} at step ${state.step}`),
    });
    spent.data += t1 - t0;
    spent.run += runMs;
    spent.update += updateMs;
    state.step++;
    state.samples += res.batch;
    state.seconds += (performance.now() - t0) / 1000;
    window.push(loss);
    if (state.step % 50 === 0) {
      const mean = window.reduce((a, b) => a + b, 0) / window.length;
      state.losses.push([state.step, +mean.toFixed(5)]);
      const rate = (window.length / (performance.now() - windowStart)) * 1000;
      const ms = (k: keyof typeof spent) => (spent[k] / window.length).toFixed(0);
      o.log(
        `step ${state.step} loss ${mean.toFixed(4)} ${rate.toFixed(2)} steps/s (${(state.seconds / 3600).toFixed(2)} h total; ms/step data ${ms('data')} run ${ms('run')} update ${ms('update')})`,
      );
      spent.data = spent.run = spent.update = 0;
      window = [];
      windowStart = performance.now();
    }
    if (state.step % o.checkpointEvery === 0) checkpoint();
  }
  checkpoint();
  o.log(`stopped at step ${state.step}; weights in ${weightsPath}`);
  return state;
}
