// LoRA finetuning of a FLUX.1 checkpoint (the job behind /v1/finetune with FLUXTUNE_MODEL):
// rectified flow on the user's images encoded by the autoencoder (2×2-packed latents), captions
// by T5 + CLIP, rank-r LoRA factors on every block Linear with the base frozen into one training
// session, AdamW in TypeScript, FLUX's logit-normal shifted timesteps, guidance embedding fed 1
// (the usual choice for dev LoRAs: ai-toolkit, sd-scripts). This is the whole-graph trainer: it
// holds every activation for the backward pass, so a real 12 B model needs the memory the estimate
// below says (far above one 80 GB GPU); the per-block design with recomputation is not built.

import { AdamW, type AdamWState } from '../../engine/adamw.ts';
import { Rng } from '../../engine/rng.ts';
import type { Feeds } from '../../engine/session.ts';
import { latentFactor } from '../ae/config.ts';
import { AeRunner } from '../ae/runner.ts';
import { InvalidModelInput, type TrainHooks, type TrainRequest, type TrainResult } from '../backend.ts';
import { fitImage } from '../codec/patches.ts';
import { imageToChw } from '../conditioning/condition.ts';
import { pack } from '../conditioning/pack.ts';
import { type FluxParams, fluxDims } from '../flux/config.ts';
import { fluxFeeds } from '../flux/feeds.ts';
import { LORA_SCALE_INPUT } from '../flux/params.ts';
import { buildFluxTrainingGraph } from '../flux/training.ts';
import { frozenWeights } from '../flux/weights.ts';
import { writeLora } from '../lora/files.ts';
import { initLoraTensors } from '../lora/init.ts';
import { blockLinears, type Lora } from '../lora/lora.ts';
import type { Tensors } from '../tensors.ts';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.ts';
import { flowBatch, learningRate } from '../train/flow.ts';
import { TrainingStep } from '../train/step.ts';
import type { Flux1Folder } from './checkpoint-folder.ts';
import { latentGrid, latentImageIds, PACK } from './latents.ts';
import { availableMemory, ModelTooLarge } from './memory.ts';
import type { Flux1TextEncoders } from './text-conditioning.ts';
import { readAll } from './weight-source.ts';

/** Image tokens per priority: speed trains at 512² on FLUX.1 (1024 tokens), the others at 1024² (4096). */
export const TRAIN_TOKENS = { speed: 1024, quality: 4096, high_res_only: 4096 } as const;

export interface Flux1TrainContext {
  folder: Flux1Folder;
  aeWeights: Tensors;
  text: Flux1TextEncoders;
  threads?: number;
  checkpointEvery?: number;
  captionDropout?: number;
}

/** Peak bytes of one whole-graph training step (batch 1): the frozen weights twice while the session builds, and the saved activations. */
export function trainingMemory(p: FluxParams, weights: number, imgTokens: number, txtTokens: number): number {
  const L = imgTokens + txtTokens;
  const d = fluxDims(p);
  const perBlock = 4 * (L * (40 * d.hidden + 6 * d.mlpHidden) + 4 * d.heads * L * L);
  return 4 * 2 * weights + perBlock * (p.depth + p.depth_single_blocks);
}

function abortError(): Error {
  const e = new Error('finetune cancelled');
  e.name = 'AbortError';
  return e;
}

export async function trainFlux1Lora(ctx: Flux1TrainContext, req: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResult> {
  const started = performance.now();
  const { folder } = ctx;
  if (req.finetuneType !== 'lora') throw new InvalidModelInput('full finetunes of a real FLUX.1 model are not possible in fluxtune: use finetune_type "lora"');
  if (!req.examples.length) throw new Error('finetune: no training examples');
  const f = latentFactor(folder.aeParams);
  const side = Math.sqrt(TRAIN_TOKENS[req.priority]) * PACK * f;
  const grid = latentGrid(side, side, folder.aeParams.z_channels, f);
  const tokens = grid.rows * grid.cols;
  let weightCount = 0;
  for (const s of folder.transformer.shapes.values()) weightCount += s.reduce((a, b) => a * b, 1);
  const need = trainingMemory(folder.params, weightCount, tokens, ctx.text.txtTokens);
  const available = availableMemory();
  if (need > available) {
    const gb = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
    throw new ModelTooLarge(
      `a LoRA finetune of FLUX.1-${folder.variant} at ${side}×${side} needs about ${gb(need)} with fluxtune's whole-graph trainer, ${gb(available)} is available: ` +
        'the per-block trainer for one 80 GB GPU (recomputation, bf16 base) is not built yet; try priority "speed" (512²) or more memory',
    );
  }

  // The training set: each image centre-cropped to the square, encoded by the AE and packed.
  const ae = await AeRunner.create({ params: folder.aeParams, weights: ctx.aeWeights, shape: { batch: 1, height: side, width: side }, threads: ctx.threads });
  const x0: Float32Array[] = [];
  try {
    for (const e of req.examples) {
      const { z } = await ae.encode(imageToChw(await fitImage(e.image, side, side)));
      x0.push(pack(z, grid.channels, grid.height, grid.width, PACK));
    }
  } finally {
    await ae.release();
  }
  const captions = await Promise.all(req.examples.map((e) => ctx.text.encode(e.caption)));
  const empty = await ctx.text.encode('');

  const shape = { batch: 1, imgTokens: tokens, txtTokens: ctx.text.txtTokens };
  const graph = buildFluxTrainingGraph(folder.params, shape, { lora: { rank: req.loraRank, targets: blockLinears, bias: false } });
  const step = await TrainingStep.create(graph.outputs, { frozen: frozenWeights(graph.flux.store.params, readAll(folder.transformer)), threads: ctx.threads });
  try {
    let rng = new Rng(req.seed);
    const params = new Map<string, Float32Array>();
    const shapes = new Map<string, readonly number[]>();
    for (const [k, t] of initLoraTensors(graph.flux.store, rng)) params.set(k, Float32Array.from(t.data));
    for (const [k, v] of graph.trainable) shapes.set(k, v.shape);
    const opt = new AdamW(params, { lr: req.learningRate, weightDecay: 0, maxGradNorm: 1 });
    let done = 0;
    if (hooks.resumeFrom) {
      const ck = loadCheckpoint(hooks.resumeFrom.bytes);
      for (const [k, v] of ck.params) params.get(k)?.set(v);
      opt.load(ck.adam as AdamWState);
      rng = Rng.fromState(ck.rng);
      done = ck.step;
    }
    const ids = latentImageIds(grid);
    const warmup = Math.max(1, Math.round(req.iterations * 0.05));
    const every = ctx.checkpointEvery ?? 50;
    let loss = Number.NaN;
    while (done < req.iterations) {
      if (hooks.signal?.aborted) throw abortError();
      const pick = rng.int(req.examples.length);
      const flow = flowBatch(rng, [x0[pick]!], tokens);
      const text = rng.uniform() < (ctx.captionDropout ?? 0.05) ? empty : captions[pick]!;
      const feeds: Feeds = fluxFeeds(folder.params, shape, 'float32', {
        img: flow.xt,
        imgIds: ids,
        txt: text.txt,
        y: text.y,
        timesteps: flow.t,
        guidance: [1],
      });
      feeds[LORA_SCALE_INPUT] = Float32Array.of(1);
      ({ loss } = await step.run(opt, feeds, flow.target, {
        lr: learningRate(done, req.iterations, req.learningRate, warmup),
        diverged: (l) => new Error(`finetune diverged at step ${done} (loss ${l}); try a lower learning_rate`),
      }));
      done++;
      hooks.onProgress?.(done / req.iterations, { step: done, loss });
      if (hooks.onCheckpoint && done % every === 0 && done < req.iterations) {
        await hooks.onCheckpoint({ step: done, bytes: saveCheckpoint({ step: done, params, shapes, adam: opt.state(), rng: rng.state(), info: { loss } }) });
      }
    }
    return { lora: writeLora(loraOf(params, shapes), 'bfl'), steps: done, finalLoss: loss, trainingSeconds: (performance.now() - started) / 1000 };
  } finally {
    await step.release();
  }
}

function loraOf(params: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, readonly number[]>): Lora {
  const lora: Lora = new Map();
  for (const [key, down] of params) {
    if (!key.endsWith('.lora_A.weight')) continue;
    const path = key.slice(0, -'.lora_A.weight'.length);
    const [rank, inFeatures] = shapes.get(key)! as [number, number];
    const up = params.get(`${path}.lora_B.weight`)!;
    lora.set(path, { rank, inFeatures, outFeatures: up.length / rank, down: Float32Array.from(down), up: Float32Array.from(up) });
  }
  return lora;
}
