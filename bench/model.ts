// npm run bench:model -- [--config models/flux-mini/config.json] [--batch 4] [--img-tokens 256] [--txt-tokens 32] [--lora 16] [--peer torch] [--adamw typescript] [--json]
// Forward and training-step speed of the FLUX transformer for a config (BFL FluxParams JSON, or our
// model config with a "flux" key), as MFU against the matmul peak measured in the same process
// (lib/peak.ts; the fastest run against the fastest matmul, the medians printed too). --peer torch
// runs BFL's FLUX in PyTorch on the same config, shape and threads afterwards (full mode only) and
// prints its times over ours (skipped with a message where python3-torch is absent).

import { availableParallelism, loadavg } from 'node:os';
import { AdamW } from '../src/engine/adamw.ts';
import { Rng } from '../src/engine/rng.ts';
import { Session } from '../src/engine/session.ts';
import { buildFluxGraph } from '../src/model/flux/build.ts';
import { fluxFeeds } from '../src/model/flux/feeds.ts';
import { LORA_SCALE_INPUT } from '../src/model/flux/params.ts';
import { buildFluxTrainingGraph } from '../src/model/flux/training.ts';
import { frozenWeights } from '../src/model/flux/weights.ts';
import { initLoraTensors } from '../src/model/lora/init.ts';
import { blockLinears } from '../src/model/lora/lora.ts';
import { TrainingStep } from '../src/model/train/step.ts';
import { matmulFlops } from './lib/flops.ts';
import { loadFluxParams, randomFluxBatch, randomFluxWeights } from './lib/flux-setup.ts';
import { MatmulPeak, mfus, modelGemms } from './lib/peak.ts';
import { parseArgs, peakRssMiB, timeRuns } from './lib/timing.ts';
import { runTorchPeer } from './lib/torch-peer.ts';

const args = parseArgs(process.argv.slice(2));
const configPath = String(args.config ?? 'models/flux-mini/config.json');
const params = loadFluxParams(configPath);
const shape = { batch: Number(args.batch ?? 4), imgTokens: Number(args['img-tokens'] ?? 256), txtTokens: Number(args['txt-tokens'] ?? 32) };
const loraRank = args.lora ? Number(args.lora) : 0;
const reps = Number(args.reps ?? 5);

const rng = new Rng(0);

const fg = buildFluxGraph(params, shape);
const weights = randomFluxWeights(params);
const batch = randomFluxBatch(params, shape, rng);
const dataFeeds = fluxFeeds(params, shape, 'float32', batch);

// The peak over the training graph's largest GEMMs (and a square product), sampled before, between
// and after the timed runs: see lib/peak.ts.
const lora = loraRank ? { rank: loraRank, targets: blockLinears, bias: false } : undefined;
const tg = buildFluxTrainingGraph(params, shape, { lora });
const peak = await MatmulPeak.create(modelGemms(Object.values(tg.outputs)));
await peak.sample();

// Forward: inference session, weights frozen (prepacked by ORT).
const fwdSession = await Session.create({ outputs: { out: fg.out }, frozen: frozenWeights(fg.store.params, weights) });
const forwardT = await timeRuns(() => fwdSession.run(dataFeeds), { reps });
const forwardFlops = matmulFlops([fg.out]);
await fwdSession.release();
await peak.sample();

// Training step: full (every weight fed and differentiated) or LoRA on the block linears (base frozen).
const frozen = frozenWeights(tg.flux.store.params, weights, (k) => !tg.trainable.has(k));
const trainStep = await TrainingStep.create(tg.outputs, { frozen });
const trained = new Map<string, Float32Array>();
if (lora) for (const [k, t] of initLoraTensors(tg.flux.store, rng)) trained.set(k, Float32Array.from(t.data));
else for (const k of tg.trainable.keys()) trained.set(k, Float32Array.from(weights.get(k)!.data));
// With the trainers' clipping; --adamw typescript: the TypeScript loops instead of the SIMD kernel (the before).
const opt = new AdamW(trained, { lr: 1e-4, maxGradNorm: 1, simd: args.adamw !== 'typescript' });
const target = rng.fillNormal(new Float32Array(tg.target.size));
const feeds = lora ? { ...dataFeeds, [LORA_SCALE_INPUT]: Float32Array.of(1) } : dataFeeds;
const diverged = (loss: number) => new Error(`bench: loss is ${loss}`);
const updateMs: number[] = [];
const step = async () => updateMs.push((await trainStep.run(opt, feeds, target, { lr: opt.opts.lr, diverged })).updateMs);
const trainT = await timeRuns(step, { reps });
const [forwardS, trainS] = [forwardT.best, trainT.best];
await peak.sample();
const peakSummary = peak.summary();
await peak.release();
updateMs.sort((a, b) => a - b);
const adamS = updateMs[Math.floor(updateMs.length / 2)]! / 1000;
const trainFlops = matmulFlops(Object.values(tg.outputs));
await trainStep.release();

const torch = args.peer === 'torch' && !lora ? runTorchPeer({ config: configPath, ...shape, threads: availableParallelism(), reps }) : undefined;
const peer = torch?.forward_s
  ? {
      peer: torch,
      torch_over_ours_forward: +(torch.forward_s / forwardS).toFixed(2),
      torch_over_ours_train_step: +(torch.train_step_s! / trainS).toFixed(2),
      load_1m_after_peer: +loadavg()[0]!.toFixed(2),
    }
  : torch && { peer: torch };

const paramCount = [...weights.values()].reduce((n, t) => n + t.data.length, 0);
const result = {
  bench: 'model',
  config: params,
  shape,
  mode: lora ? `lora${loraRank}` : 'full',
  params: paramCount,
  matmul_peak_gflops: peakSummary.gflops,
  forward_s: +forwardS.toFixed(4),
  forward_median_s: +forwardT.median.toFixed(4),
  forward_gflop: +(forwardFlops / 1e9).toFixed(2),
  train_step_s: +trainS.toFixed(4),
  train_step_median_s: +trainT.median.toFixed(4),
  train_gflop: +(trainFlops / 1e9).toFixed(2),
  adamw: opt.usesSimd ? 'wasm-simd' : 'typescript',
  adamw_s: +adamS.toFixed(4),
  adamw_share: +(adamS / trainT.median).toFixed(3),
  ...mfus({ mfu_forward: forwardFlops / forwardS / 1e9, mfu_train: trainFlops / trainS / 1e9 }, peakSummary),
  peak: peakSummary,
  peak_rss_mib: Math.round(peakRssMiB()),
  ...peer,
};
if (args.json) console.log(JSON.stringify(result));
else console.log(result);
