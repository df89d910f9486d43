// The finetune behind POST /v1/finetune: rectified-flow training of flux-mini on the user's images.
// `lora` trains rank-r LoRA factors on every block Linear with the base frozen into the session;
// `full` trains every block weight and then extracts ΔW into a rank-r LoRA by truncated SVD. Both
// return a LoRA in BFL's layout. `priority` picks the resolutions: speed trains at the low size
// only, quality alternates low and native, high_res_only uses the native size only.

import { AdamW, type AdamWState } from '../../engine/adamw.ts';
import { Rng } from '../../engine/rng.ts';
import type { Feeds } from '../../engine/session.ts';
import type { RgbImage, TrainHooks, TrainRequest, TrainResult } from '../backend.ts';
import { bucketFor, fitImage, imageIds, imageToTokens, type TokenGrid } from '../codec/patches.ts';
import { fluxFeeds } from '../flux/feeds.ts';
import { LORA_SCALE_INPUT } from '../flux/params.ts';
import { buildFluxTrainingGraph, type FluxTrainingGraph } from '../flux/training.ts';
import { frozenWeights } from '../flux/weights.ts';
import { extractLora } from '../lora/extract.ts';
import { writeLora } from '../lora/files.ts';
import { initLoraTensors } from '../lora/init.ts';
import { blockLinears, type Lora, type LoraModule } from '../lora/lora.ts';
import type { Tensors } from '../tensors.ts';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.ts';
import { flowBatch, learningRate } from '../train/flow.ts';
import { TrainingStep } from '../train/step.ts';
import { type FluxMiniConfig, textTokens, trainingTimesteps } from './config.ts';
import type { TextEncoderSession } from './text-session.ts';

export interface FinetuneContext {
  config: FluxMiniConfig;
  /** Base transformer weights (BFL keys). */
  weights: Tensors;
  text: TextEncoderSession;
  threads?: number;
  /** Renders a preview sample with the LoRA trained so far (PNG bytes). */
  preview?: (lora: Lora, caption: string) => Promise<Uint8Array>;
}

export interface FinetuneSettings {
  batch: number;
  checkpointEvery: number;
  /** Previews per run: one at each of the first previews − 1 of that many equal parts (the finished LoRA is the last). */
  previews: number;
  captionDropout: number;
}

/** A preview's LoRA of a full finetune needs only to look right: one power iteration instead of four (~2× faster). */
const PREVIEW_POWER_ITERS = 1;

const DEFAULTS: FinetuneSettings = { batch: 4, checkpointEvery: 50, previews: 4, captionDropout: 0.05 };

const isBlockWeight = (key: string) => /^(double|single)_blocks\./.test(key);

interface Stage {
  grid: TokenGrid;
  graph: FluxTrainingGraph;
  step: TrainingStep;
  /** Clean tokens of every example at this stage's grid. */
  x0: Float32Array[];
  ids: Float32Array;
}

/** The most common aspect bucket among the images: every image is centre-cropped to it. */
function commonGrid(images: readonly RgbImage[], tokens: number, patch: number): TokenGrid {
  const counts = new Map<string, { grid: TokenGrid; n: number }>();
  for (const img of images) {
    const grid = bucketFor(img.width, img.height, tokens, patch);
    const key = `${grid.rows}x${grid.cols}`;
    const hit = counts.get(key) ?? { grid, n: 0 };
    hit.n++;
    counts.set(key, hit);
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0]!.grid;
}

function stageSizes(c: FluxMiniConfig, priority: TrainRequest['priority']): number[] {
  const low = (c.codec.low_size / c.codec.patch) ** 2;
  const native = (c.codec.native_size / c.codec.patch) ** 2;
  if (priority === 'speed') return [low];
  if (priority === 'high_res_only') return [native];
  return [low, native];
}

function abortError(): Error {
  const e = new Error('finetune cancelled');
  e.name = 'AbortError';
  return e;
}

export async function finetune(
  ctx: FinetuneContext,
  req: TrainRequest,
  hooks: TrainHooks = {},
  settings: Partial<FinetuneSettings> = {},
): Promise<TrainResult> {
  const started = performance.now();
  const s = { ...DEFAULTS, ...settings };
  const c = ctx.config;
  if (!req.examples.length) throw new Error('finetune: no training examples');
  const patch = c.codec.patch;
  const batch = Math.min(s.batch, req.examples.length);
  const lora = req.finetuneType === 'lora';
  const loraSpec = lora ? { rank: req.loraRank, targets: blockLinears, bias: false } : undefined;

  // Stages: one training graph and session per resolution, base weights frozen into it.
  const stages: Stage[] = [];
  for (const tokens of stageSizes(c, req.priority)) {
    const grid = commonGrid(
      req.examples.map((e) => e.image),
      tokens,
      patch,
    );
    const shape = { batch, imgTokens: grid.rows * grid.cols, txtTokens: textTokens(c) };
    const graph = buildFluxTrainingGraph(c.flux, shape, {
      lora: loraSpec,
      trainable: lora ? undefined : isBlockWeight,
      prediction: c.prediction,
    });
    const frozen = frozenWeights(graph.flux.store.params, ctx.weights, (k) => !graph.trainable.has(k));
    const step = await TrainingStep.create(graph.outputs, { frozen, threads: ctx.threads });
    const x0: Float32Array[] = [];
    for (const e of req.examples) x0.push(imageToTokens(await fitImage(e.image, grid.cols * patch, grid.rows * patch), patch));
    const one = imageIds(grid);
    const ids = new Float32Array(batch * one.length);
    for (let b = 0; b < batch; b++) ids.set(one, b * one.length);
    stages.push({ grid, graph, step, x0, ids });
  }

  const captions = req.examples.map((e) => e.caption);
  const encoded = await Promise.all(captions.map((cap) => ctx.text.encode(cap)));
  const empty = await ctx.text.encode('');

  // Trainable tensors: fresh LoRA factors, or copies of the block weights.
  let rng = new Rng(req.seed);
  const params = new Map<string, Float32Array>();
  const shapes = new Map<string, readonly number[]>();
  const first = stages[0]!.graph;
  if (lora) {
    for (const [k, t] of initLoraTensors(first.flux.store, rng)) params.set(k, Float32Array.from(t.data));
  } else {
    for (const k of first.trainable.keys()) params.set(k, Float32Array.from(ctx.weights.get(k)!.data));
  }
  for (const [k, v] of first.trainable) shapes.set(k, v.shape);

  const scale = (c.finetune?.lr_scale ?? 1) * (lora ? 1 : (c.finetune?.full_lr_multiplier ?? 1));
  const lr = req.learningRate * scale;
  const opt = new AdamW(params, { lr, weightDecay: lora ? 0 : 0.01, maxGradNorm: 1 });
  // A full finetune's LoRA extraction after the last step (ORT, engine/svd.ts) takes ~1-2% of a default run on 2 cores.
  const trainShare = lora ? 1 : 0.98;
  let step = 0;
  if (hooks.resumeFrom) {
    const ck = loadCheckpoint(hooks.resumeFrom.bytes);
    for (const [k, v] of ck.params) params.get(k)?.set(v);
    opt.load(ck.adam as AdamWState);
    rng = Rng.fromState(ck.rng);
    step = ck.step;
  }

  const warmup = Math.max(1, Math.round(req.iterations * 0.05));
  // Scaled to the run, so a 100-step finetune shows its progress too (at 25, 50 and 75).
  const previewEvery = Math.max(1, Math.ceil(req.iterations / s.previews));
  let loss = NaN;
  while (step < req.iterations) {
    if (hooks.signal?.aborted) throw abortError();
    const stage = stages[step % stages.length]!;
    const picks = Array.from({ length: batch }, () => rng.int(req.examples.length));
    const flow = flowBatch(
      rng,
      picks.map((i) => stage.x0[i]!),
      stage.grid.rows * stage.grid.cols,
      trainingTimesteps(c),
    );
    const txt: number[] = [];
    const y: number[] = [];
    for (const i of picks) {
      const enc = rng.uniform() < s.captionDropout ? empty : encoded[i]!;
      txt.push(...enc.txt);
      y.push(...enc.y);
    }
    const shape = stage.graph.flux.shape;
    const feeds: Feeds = fluxFeeds(c.flux, shape, 'float32', { img: flow.xt, imgIds: stage.ids, txt, y, timesteps: flow.t });
    if (lora) feeds[LORA_SCALE_INPUT] = Float32Array.of(1);
    ({ loss } = await stage.step.run(opt, feeds, flow.target, {
      lr: learningRate(step, req.iterations, lr, warmup),
      diverged: (l) => new Error(`finetune diverged at step ${step} (loss ${l}); try a lower learning_rate`),
    }));
    step++;
    hooks.onProgress?.(trainShare * (step / req.iterations), { step, loss, phase: 'training' });
    if (hooks.onCheckpoint && step % s.checkpointEvery === 0 && step < req.iterations) {
      const bytes = saveCheckpoint({ step, params, shapes, adam: opt.state(), rng: rng.state(), info: { loss } });
      await hooks.onCheckpoint({ step, bytes });
    }
    if (hooks.onPreview && ctx.preview && step % previewEvery === 0 && step < req.iterations) {
      const current = lora
        ? loraFromParams(params, req.loraRank, shapes)
        : (await extracted(ctx.weights, params, shapes, req.loraRank, PREVIEW_POWER_ITERS)).lora;
      await hooks.onPreview(await ctx.preview(current, captions[0]!), step);
    }
  }
  for (const st of stages) await st.step.release();

  const result = lora
    ? { lora: loraFromParams(params, req.loraRank, shapes), error: undefined }
    : await extracted(ctx.weights, params, shapes, req.loraRank, 4, (done) => {
        hooks.onProgress?.(trainShare + (1 - trainShare) * done, { step, loss, phase: 'extracting' });
      });
  const out: TrainResult = {
    lora: writeLora(result.lora, 'bfl'),
    steps: step,
    finalLoss: loss,
    trainingSeconds: (performance.now() - started) / 1000,
  };
  if (result.error !== undefined) out.extractionError = result.error;
  return out;
}

function loraFromParams(params: ReadonlyMap<string, Float32Array>, rank: number, shapes: ReadonlyMap<string, readonly number[]>): Lora {
  const lora: Lora = new Map();
  for (const [key, down] of params) {
    if (!key.endsWith('.lora_A.weight')) continue;
    const path = key.slice(0, -'.lora_A.weight'.length);
    const [r, inFeatures] = shapes.get(key)! as [number, number];
    const up = params.get(`${path}.lora_B.weight`)!;
    lora.set(path, { rank: Math.min(r, rank), inFeatures, outFeatures: up.length / r, down: Float32Array.from(down), up: Float32Array.from(up) });
  }
  return lora;
}

/** ΔW of every trained block Linear → rank-r LoRA (bias deltas carried exactly by lora_B.bias). */
async function extracted(
  base: Tensors,
  params: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
  rank: number,
  powerIters: number,
  onProgress?: (done: number) => void,
) {
  const lora: Lora = new Map();
  const keys = [...params.keys()].filter((k) => k.endsWith('.weight') && shapes.get(k)!.length === 2);
  let done = 0;
  let errSq = 0;
  let totalSq = 0;
  for (const [key, w] of params) {
    if (!key.endsWith('.weight')) continue;
    const shape = shapes.get(key)!;
    if (shape.length !== 2) continue;
    const [outF, inF] = shape as [number, number];
    const path = key.slice(0, -'.weight'.length);
    const w0 = base.get(key)!.data;
    const delta = new Float32Array(w.length);
    let norm = 0;
    for (let i = 0; i < w.length; i++) {
      delta[i] = w[i]! - w0[i]!;
      norm += delta[i]! ** 2;
    }
    if (norm === 0) continue;
    const r = Math.min(rank, outF, inF);
    const { loraA, loraB, relativeError } = await extractLora(delta, outF, inF, r, 0, powerIters);
    onProgress?.(++done / keys.length);
    errSq += relativeError ** 2 * norm;
    totalSq += norm;
    const m: LoraModule = { rank: r, inFeatures: inF, outFeatures: outF, down: loraA, up: loraB };
    const b = params.get(`${path}.bias`);
    if (b) {
      const b0 = base.get(`${path}.bias`)!.data;
      m.bias = Float32Array.from(b, (x, i) => x - b0[i]!);
    }
    lora.set(path, m);
  }
  return { lora, error: totalSq > 0 ? Math.sqrt(errSq / totalSq) : 0 };
}
