// Trains one control variant of flux-mini (control-variant.ts) on generated scenes: the base frozen
// into the session, the widened `img_in` and a LoRA on the block Linears trained with rectified flow
// while the condition rides along on the channel axis. Step 0 is the base exactly (zero columns,
// zero lora_B). Seeded and resumable from a local checkpoint; writes the adapter and its state to the
// model folder at every checkpoint.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdamW } from '../../engine/adamw.ts';
import { Rng } from '../../engine/rng.ts';
import type { StructuralKind } from '../backend.ts';
import { imageIds, imageToTokens } from '../codec/patches.ts';
import { pixelCodec } from '../conditioning/condition.ts';
import { adapterFile, adapterStateFile, controlParams, initialVariantWeights } from '../conditioning/control-variant.ts';
import { fluxFeeds } from '../flux/feeds.ts';
import { LORA_SCALE_INPUT } from '../flux/params.ts';
import { buildFluxTrainingGraph } from '../flux/training.ts';
import { frozenWeights } from '../flux/weights.ts';
import { type FluxMiniConfig, textTokens, trainingTimesteps } from '../flux-mini/config.ts';
import type { TextEncoderSession } from '../flux-mini/text-session.ts';
import { initLoraTensors } from '../lora/init.ts';
import { blockLinears } from '../lora/lora.ts';
import { concatChannels } from '../sampling/sampler.ts';
import { type Tensors, writeTensors } from '../tensors.ts';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.ts';
import { flowBatch, learningRate } from '../train/flow.ts';
import { TrainingStep } from '../train/step.ts';
import { atomicWrite } from './atomic-write.ts';
import { controlExample, type SceneControlImage } from './control-scenes.ts';
import { OBJECT_BOX_SHARE } from './random-mask.ts';
import type { Sprite } from './scenes.ts';

export interface ControlTrainOptions {
  kind: StructuralKind;
  config: FluxMiniConfig;
  /** Base transformer weights (BFL keys). */
  weights: Tensors;
  text: TextEncoderSession;
  sprites: ReadonlyMap<string, Sprite>;
  concepts: readonly string[];
  controlImage?: SceneControlImage;
  /** See controlExample; recorded in the state. */
  freeLayout?: number;
  /** Fill: the share of object-box masks (random-mask.ts); recorded in the state. */
  objectBox?: number;
  /**
   * Start from a trained adapter (its img_in and LoRA) instead of the zero-initialised variant, with a
   * fresh optimizer and schedule; ignored when a checkpoint resumes. `from` names it in the state.
   */
  initAdapter?: { tensors: Tensors; from: string; steps: number };
  modelDir: URL;
  checkpointPath: string;
  seed: number;
  lr: number;
  rank: number;
  /** The learning-rate schedule's length; the run also stops at the deadline. */
  steps: number;
  deadline: number;
  checkpointEvery: number;
  /** Defaults to CONTROL_RESOLUTIONS. */
  resolutions?: readonly { size: number; batch: number }[];
  threads?: number;
  log: (line: string) => void;
}

export interface ControlTrainState {
  kind: StructuralKind;
  step: number;
  seconds: number;
  losses: [number, number][];
  rank: number;
  seed: number;
  lr?: number;
  free_layout?: number;
  object_box?: number;
  /** The adapter this run started from, and the steps it had had (they are not in `step`). */
  init_from?: { adapter: string; steps: number };
}

/** Alternating low and native batches, as finetunes at priority quality train. */
export const CONTROL_RESOLUTIONS = [
  { size: 64, batch: 4 },
  { size: 128, batch: 2 },
];

export async function trainControl(o: ControlTrainOptions): Promise<ControlTrainState> {
  const c = o.config;
  const codec = pixelCodec(c.codec.patch);
  const params = controlParams(c.flux, o.kind, codec);
  const condChannels = params.in_channels - params.out_channels;
  const base = initialVariantWeights(o.weights, params);
  // the LoRA factors and the widened img_in (weight and bias) train; everything else is the frozen base
  const trainable = (k: string) => k.includes('.lora_') || k.startsWith('img_in.');

  const stages = [];
  for (const r of o.resolutions ?? CONTROL_RESOLUTIONS) {
    const grid = { rows: r.size / c.codec.patch, cols: r.size / c.codec.patch, patch: c.codec.patch };
    const tokens = grid.rows * grid.cols;
    const shape = { batch: r.batch, imgTokens: tokens, txtTokens: textTokens(c) };
    const graph = buildFluxTrainingGraph(params, shape, { lora: { rank: o.rank, targets: blockLinears, bias: false }, prediction: c.prediction, trainable });
    const frozen = frozenWeights(graph.flux.store.params, base, (k) => !graph.trainable.has(k));
    const step = await TrainingStep.create(graph.outputs, { frozen, threads: o.threads });
    const one = imageIds(grid);
    const ids = new Float32Array(r.batch * one.length);
    for (let b = 0; b < r.batch; b++) ids.set(one, b * one.length);
    stages.push({ ...r, tokens, graph, step, ids });
  }

  const first = stages[0]!.graph;
  const shapes = new Map<string, readonly number[]>([...first.trainable].map(([k, v]) => [k, v.shape]));
  const trained = new Map<string, Float32Array>();
  let rng = new Rng(o.seed);
  const lora = initLoraTensors(first.flux.store, rng);
  for (const k of shapes.keys()) trained.set(k, Float32Array.from((lora.get(k) ?? base.get(k)!).data));
  let init: ControlTrainState['init_from'];
  if (o.initAdapter) {
    for (const [k, v] of trained) {
      const t = o.initAdapter.tensors.get(k);
      if (!t || t.data.length !== v.length) throw new Error(`${o.kind}: the initial adapter has no ${k} of shape [${shapes.get(k)}]`);
      v.set(t.data);
    }
    init = { adapter: o.initAdapter.from, steps: o.initAdapter.steps };
  }
  const opt = new AdamW(trained, { lr: o.lr, weightDecay: 0, maxGradNorm: 1 });
  let state: ControlTrainState = {
    kind: o.kind,
    step: 0,
    seconds: 0,
    losses: [],
    rank: o.rank,
    seed: o.seed,
    lr: o.lr,
    free_layout: o.freeLayout ?? 0,
    ...(o.kind === 'fill' ? { object_box: o.objectBox ?? OBJECT_BOX_SHARE } : {}),
    ...(init ? { init_from: init } : {}),
  };
  if (existsSync(o.checkpointPath)) {
    const ck = loadCheckpoint(readFileSync(o.checkpointPath));
    for (const [k, v] of ck.params) trained.get(k)?.set(v);
    opt.load(ck.adam);
    rng = Rng.fromState(ck.rng);
    state = ck.info as unknown as ControlTrainState;
    o.log(`${o.kind}: resumed at step ${state.step}`);
  }
  const empty = await o.text.encode('');

  const save = () => {
    mkdirSync(dirname(o.checkpointPath), { recursive: true });
    atomicWrite(o.checkpointPath, saveCheckpoint({ step: state.step, params: trained, shapes, adam: opt.state(), rng: rng.state(), info: { ...state } }));
    const out: Tensors = new Map([...trained].map(([k, v]) => [k, { shape: [...shapes.get(k)!], data: v }]));
    atomicWrite(
      fileURLToPath(new URL(adapterFile(o.kind), o.modelDir)),
      writeTensors(out, 'F16', { format: 'pt', model: `flux-mini-${o.kind}`, step: String(state.step), in_channels: String(params.in_channels) }),
    );
    atomicWrite(fileURLToPath(new URL(adapterStateFile(o.kind), o.modelDir)), `${JSON.stringify(state, null, 1)}\n`);
  };

  const warmup = 100;
  let window: number[] = [];
  // where a step's time goes: scene rendering + conditions + text, the ONNX Runtime run, AdamW
  const spent = { data: 0, run: 0, update: 0 };
  while (state.step < o.steps && Date.now() < o.deadline) {
    const t0 = performance.now();
    const stage = stages[state.step % stages.length]!;
    const examples = [];
    for (let b = 0; b < stage.batch; b++) {
      examples.push(
        await controlExample(rng, o.kind, {
          sprites: o.sprites,
          concepts: o.concepts,
          size: stage.size,
          codec,
          captionDropout: 0.1,
          freeLayout: o.freeLayout,
          controlImage: o.controlImage,
          objectBox: o.objectBox,
        }),
      );
    }
    const flow = flowBatch(
      rng,
      examples.map((e) => imageToTokens(e.image, c.codec.patch)),
      stage.tokens,
      trainingTimesteps(c),
    );
    const cond = new Float32Array(stage.batch * stage.tokens * condChannels);
    for (const [b, e] of examples.entries()) cond.set(e.cond, b * stage.tokens * condChannels);
    const img = concatChannels(flow.xt, cond, stage.batch * stage.tokens, params.out_channels, condChannels);
    const txt: number[] = [];
    const y: number[] = [];
    for (const e of examples) {
      const enc = e.caption ? await o.text.encode(e.caption) : empty;
      txt.push(...enc.txt);
      y.push(...enc.y);
    }
    const feeds = fluxFeeds(params, stage.graph.flux.shape, 'float32', { img, imgIds: stage.ids, txt, y, timesteps: flow.t });
    feeds[LORA_SCALE_INPUT] = Float32Array.of(1);
    const t1 = performance.now();
    const { loss, runMs, updateMs } = await stage.step.run(opt, feeds, flow.target, {
      lr: learningRate(state.step, o.steps, o.lr, warmup),
      diverged: (l) => new Error(`${o.kind}: loss ${l} at step ${state.step}`),
    });
    state.step++;
    state.seconds += (performance.now() - t0) / 1000;
    spent.data += t1 - t0;
    spent.run += runMs;
    spent.update += updateMs;
    window.push(loss);
    if (state.step % 50 === 0) {
      const mean = window.reduce((a, b) => a + b, 0) / window.length;
      state.losses.push([state.step, +mean.toFixed(5)]);
      const ms = (k: keyof typeof spent) => (spent[k] / window.length).toFixed(0);
      o.log(`${o.kind} step ${state.step} loss ${mean.toFixed(4)} (ms/step data ${ms('data')} run ${ms('run')} update ${ms('update')})`);
      window = [];
      spent.data = spent.run = spent.update = 0;
    }
    if (state.step % o.checkpointEvery === 0) save();
  }
  save();
  for (const s of stages) await s.step.release();
  o.log(`${o.kind}: stopped at step ${state.step}`);
  return state;
}
