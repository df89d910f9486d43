// The GPU check of issue 12 (not run in CI): a FLUX.1-dev-sized transformer with random weights
// (bf16-representable values; the graphs compute in float32 — the engine has no bf16 graphs yet),
// one 1024×1024 inference step (4096 image + 512 text tokens) and one 512×512 LoRA training step
// (1024 + 512 tokens, rank 16 on every block Linear, loss + LoRA gradients), each timed with the
// process's RSS and the GPU's memory (nvidia-smi) printed. `--depth N --single N` shrink the block
// counts (the per-block figures scale linearly) where the machine cannot hold the full model;
// FLUXTUNE_DEVICE=cpu with small depths checks the script itself on a machine without a GPU.
//
//   FLUXTUNE_DEVICE=cuda node --import tsx scripts/gpu-check.ts [--depth 19] [--single 38] [--json]

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { configuredDevice } from '../src/engine/device.ts';
import { Rng } from '../src/engine/rng.ts';
import { bf16ToF32, f32ToBf16 } from '../src/engine/safetensors.ts';
import { Session } from '../src/engine/session.ts';
import { buildFluxGraph } from '../src/model/flux/build.ts';
import type { FluxParams } from '../src/model/flux/config.ts';
import { fluxFeeds } from '../src/model/flux/feeds.ts';
import { buildFluxTrainingGraph, readGradients } from '../src/model/flux/training.ts';
import { frozenWeights, weightFeeds } from '../src/model/flux/weights.ts';
import { FLUX1_MODELS } from '../src/model/flux1/configs.ts';
import { latentImageIds } from '../src/model/flux1/latents.ts';
import { trainingMemory } from '../src/model/flux1/train-lora.ts';
import { loraFeeds } from '../src/model/lora/feeds.ts';
import { blockLinears } from '../src/model/lora/lora.ts';
import type { Tensors } from '../src/model/tensors.ts';

const { values: args } = parseArgs({
  options: {
    depth: { type: 'string' },
    single: { type: 'string' },
    json: { type: 'boolean', default: false },
    'skip-train': { type: 'boolean', default: false },
  },
});
const device = configuredDevice();
const params: FluxParams = {
  ...FLUX1_MODELS.dev.flux,
  depth: Number(args.depth ?? FLUX1_MODELS.dev.flux.depth),
  depth_single_blocks: Number(args.single ?? FLUX1_MODELS.dev.flux.depth_single_blocks),
};
const GiB = 2 ** 30;
const figures: Record<string, number | string> = { device, depth: params.depth, single: params.depth_single_blocks };

function gpuMemoryMiB(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
    return Number(out.trim().split('\n')[0]);
  } catch {
    return undefined;
  }
}

function report(stage: string, extra: Record<string, number> = {}): void {
  const rss = process.memoryUsage.rss() / GiB;
  const gpu = gpuMemoryMiB();
  figures[`${stage}.rss_gib`] = Number(rss.toFixed(2));
  if (gpu !== undefined) figures[`${stage}.gpu_gib`] = Number((gpu / 1024).toFixed(2));
  for (const [k, v] of Object.entries(extra)) figures[`${stage}.${k}`] = Number(v.toFixed(3));
  if (!args.json) console.log(`${stage}: rss ${rss.toFixed(1)} GiB${gpu !== undefined ? `, GPU ${(gpu / 1024).toFixed(1)} GiB` : ''}`, extra);
}

/** Random bf16-representable weights; one random block tiled, so 12 B values take seconds, not minutes. */
function randomWeights(shapes: Map<string, readonly number[]>): Tensors {
  const block = bf16ToF32(f32ToBf16(new Rng(1).fillNormal(new Float32Array(1 << 20), 0.02)));
  const out: Tensors = new Map();
  let n = 0;
  for (const [k, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (k.endsWith('.scale')) data.fill(1);
    else for (let at = 0; at < size; at += block.length) data.set(block.subarray(0, Math.min(block.length, size - at)), at);
    out.set(k, { shape: [...shape], data });
    n += size;
  }
  figures.parameters = n;
  return out;
}

function batch(imgTokens: number, txtTokens: number, side: number) {
  const rng = new Rng(2);
  const normal = (n: number) => rng.fillNormal(new Float32Array(n));
  return {
    img: normal(imgTokens * params.in_channels),
    imgIds: latentImageIds({ rows: side, cols: side }),
    txt: normal(txtTokens * params.context_in_dim),
    y: normal(params.vec_in_dim),
    timesteps: [0.7],
    guidance: [3.5],
  };
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, (performance.now() - t) / 1000];
}

async function inference(weights: Tensors): Promise<void> {
  const shape = { batch: 1, imgTokens: 4096, txtTokens: 512 };
  const g = buildFluxGraph(params, shape);
  const [session, build] = await timed(() => Session.create({ outputs: { out: g.out }, frozen: frozenWeights(g.store.params, weights) }));
  report('inference_session', { build_s: build });
  const feeds = fluxFeeds(params, shape, 'float32', batch(4096, 512, 64));
  const [, first] = await timed(() => session.run(feeds));
  const [, step] = await timed(() => session.run(feeds));
  report('inference_1024', { first_step_s: first, step_s: step });
  await session.release();
}

async function training(weights: Tensors): Promise<void> {
  const shape = { batch: 1, imgTokens: 1024, txtTokens: 512 };
  const lora = { rank: 16, targets: blockLinears, bias: false };
  const tg = buildFluxTrainingGraph(params, shape, { lora });
  const [session, build] = await timed(() => Session.create({ outputs: tg.outputs, frozen: frozenWeights(tg.flux.store.params, weights) }));
  report('train_session', { build_s: build });
  const loraTensors: Tensors = new Map();
  const rng = new Rng(3);
  for (const [k, v] of tg.flux.store.loraParams) loraTensors.set(k, { shape: [...v.shape], data: rng.fillNormal(new Float32Array(v.size), 0.01) });
  const feeds = {
    ...fluxFeeds(params, shape, 'float32', batch(1024, 512, 32)),
    target: new Rng(4).fillNormal(new Float32Array(1024 * params.out_channels)),
    ...loraFeeds(tg.flux.store, undefined, 1), // lora_scale 1 (and zero factors, replaced next)
    ...weightFeeds(tg.flux.store.loraParams, loraTensors),
  };
  const [res, first] = await timed(() => session.run(feeds));
  const [, step] = await timed(() => session.run(feeds));
  const { loss, grads } = readGradients(tg, res);
  report('train_512_lora16', { first_step_s: first, step_s: step, loss, lora_tensors: grads.size });
  await session.release();
}

const shapes = buildFluxGraph(params, { batch: 1, imgTokens: 1, txtTokens: 1 }).store.shapes();
const [weights, gen] = await timed(async () => randomWeights(shapes));
report('weights', { generate_s: gen });
// Each stage reports its failure and the next still runs: on one GPU the whole-graph training
// step of the full model needs more memory than it has (train-lora.ts trainingMemory).
async function stage(name: string, f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (err) {
    figures[`${name}.error`] = (err as Error).message.slice(0, 500);
    if (!args.json) console.log(`${name} failed: ${(err as Error).message}`);
  }
}
figures['train_512_lora16.estimate_gib'] = Number((trainingMemory(params, Number(figures.parameters), 1024, 512) / GiB).toFixed(1));
await stage('inference_1024', () => inference(weights));
if (!args['skip-train']) await stage('train_512_lora16', () => training(weights));
if (args.json) console.log(`gpu-check ${JSON.stringify(figures)}`);
