// npm run bench:floors -- [--iterations 300] [--type full|lora] [--priority quality|speed|high_res_only] [--rank 32] [--images 10] [--sample-reps 3] [--skip-finetune] [--json]
// How far the two jobs a user waits for are from the matmul limit of this CPU (issue 17):
//   - a finetune with the API's defaults (finetune_type full, priority quality, 300 iterations,
//     lora_rank 32, batch 4; flux-mini alternates its low and native sizes) and, for a full
//     finetune, the LoRA extraction after it;
//   - a 128 px sample at the config's default steps with classifier-free guidance (a batch of 2).
// Each job's floor = its matmul FLOPs (the emitted graphs' products × runs, plus the extraction's
// products, lib/flops.ts) ÷ the matmul peak measured in the same process (lib/peak.ts), printed
// beside the measured wall time and their ratio (target ≤ 1.3). The finetune runs the real
// backend (FluxMiniBackend.train, no previews: the service adds three 12-step previews on top),
// on synthetic 128 px pictures; speed does not depend on what they show.

import { loadavg } from 'node:os';
import { DEFAULT_LEARNING_RATE } from '../src/api/finetune-schemas.ts';
import { Rng } from '../src/engine/rng.ts';
import type { RgbImage, TrainRequest } from '../src/model/backend.ts';
import { bucketFor } from '../src/model/codec/patches.ts';
import { buildFluxTrainingGraph } from '../src/model/flux/training.ts';
import { FluxMiniBackend } from '../src/model/flux-mini/backend.ts';
import { textTokens } from '../src/model/flux-mini/config.ts';
import { blockLinears } from '../src/model/lora/lora.ts';
import { loraExtractionFlops, matmulFlops } from './lib/flops.ts';
import { MatmulPeak, modelGemms, type PeakSummary } from './lib/peak.ts';
import { parseArgs } from './lib/timing.ts';

const args = parseArgs(process.argv.slice(2));
const iterations = Number(args.iterations ?? 300);
const finetuneType = String(args.type ?? 'full') as TrainRequest['finetuneType'];
const priority = String(args.priority ?? 'quality') as TrainRequest['priority'];
const loraRank = Number(args.rank ?? 32) as TrainRequest['loraRank'];
const imageCount = Number(args.images ?? 10);
const sampleReps = Number(args['sample-reps'] ?? 3);

const backend = await FluxMiniBackend.load();
const c = backend.config;

// The stages finetune.ts trains (its stageSizes: quality alternates low and native, one step each),
// the full finetune's trainable set (its isBlockWeight) and the extraction's power iterations.
const lowTokens = (c.codec.low_size / c.codec.patch) ** 2;
const nativeTokens = (c.codec.native_size / c.codec.patch) ** 2;
const stageTokens = priority === 'speed' ? [lowTokens] : priority === 'high_res_only' ? [nativeTokens] : [lowTokens, nativeTokens];
const isBlockWeight = (key: string) => /^(double|single)_blocks\./.test(key);
const EXTRACTION_POWER_ITERS = 4;
const batch = Math.min(4, imageCount);

const lora = finetuneType === 'lora' ? { rank: loraRank, targets: blockLinears, bias: false } : undefined;
const stageGraphs = stageTokens.map((imgTokens) =>
  buildFluxTrainingGraph(
    c.flux,
    { batch, imgTokens, txtTokens: textTokens(c) },
    { lora, trainable: lora ? undefined : isBlockWeight, prediction: c.prediction },
  ),
);
const stepsPerStage = stageTokens.map((_, i) => Math.floor(iterations / stageTokens.length) + (i < iterations % stageTokens.length ? 1 : 0));
const trainFlops = stageGraphs.reduce((sum, tg, i) => sum + matmulFlops(Object.values(tg.outputs)) * stepsPerStage[i]!, 0);
let extractionFlops = 0;
if (!lora)
  for (const [key, v] of stageGraphs[0]!.trainable)
    if (key.endsWith('.weight') && v.shape.length === 2) extractionFlops += loraExtractionFlops(v.shape[0]!, v.shape[1]!, loraRank, EXTRACTION_POWER_ITERS);

const sampleGrid = backend.gridFor(128, 128);
const sampleSteps = c.sampling.steps;
const runner = await backend.runnerFor(sampleGrid, 2);
const sampleFlops = matmulFlops([runner.flux.out]) * sampleSteps;

// The peak over the native training graph's and the sampler's largest GEMMs (and a square product).
const native = stageGraphs[stageGraphs.length - 1]!;
const peak = await MatmulPeak.create([...modelGemms(Object.values(native.outputs)), ...modelGemms([runner.flux.out], 2)]);
await peak.sample();

function syntheticImages(n: number, rng: Rng): RgbImage[] {
  // A coloured backdrop with a lighter disc at a random place: structure for the codec, nothing more.
  return Array.from({ length: n }, () => {
    const [w, h] = [128, 128];
    const data = new Uint8Array(w * h * 3);
    const bg = [rng.int(256), rng.int(256), rng.int(256)];
    const [cx, cy, r] = [32 + rng.int(64), 32 + rng.int(64), 16 + rng.int(24)];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
        for (let ch = 0; ch < 3; ch++) data[(y * w + x) * 3 + ch] = inside ? 255 - bg[ch]! : bg[ch]!;
      }
    return { width: w, height: h, data };
  });
}

interface Job {
  gflop: number;
  floor_s: number;
  measured_s: number;
  measured_over_floor: number;
}
const job = (flops: number, seconds: number, p: PeakSummary): Job => {
  const floor = flops / (p.gflops * 1e9);
  return { gflop: +(flops / 1e9).toFixed(1), floor_s: +floor.toFixed(2), measured_s: +seconds.toFixed(2), measured_over_floor: +(seconds / floor).toFixed(2) };
};

// ---------------------------------------------------------------- the finetune
let finetuneTimes: { total: number; training: number; extraction: number } | undefined;
if (!args['skip-finetune']) {
  const rng = new Rng(7);
  const examples = syntheticImages(imageCount, rng).map((image) => ({ image, caption: 'a photo of TOK' }));
  // Each stage's grid is the images' common bucket (square here): the graphs counted above.
  for (const t of stageTokens) {
    const g = bucketFor(128, 128, t, c.codec.patch);
    if (g.rows * g.cols !== t) throw new Error(`bench:floors: a ${t}-token stage would train on ${g.rows}x${g.cols}`);
  }
  let trainedAt = 0;
  const t0 = performance.now();
  const result = await backend.train(
    { examples, iterations, learningRate: DEFAULT_LEARNING_RATE[lora ? 'lora' : 'full'], priority, finetuneType, loraRank, seed: 1 },
    {
      onProgress: (_, p) => {
        if (p?.phase === 'training' && p.step === iterations) trainedAt = performance.now();
      },
    },
  );
  const total = (performance.now() - t0) / 1000;
  const training = ((trainedAt || performance.now()) - t0) / 1000;
  finetuneTimes = { total, training, extraction: total - training };
  if (result.steps !== iterations) throw new Error(`bench:floors: the finetune ran ${result.steps} steps`);
  await peak.sample();
}

// ---------------------------------------------------------------- the sample
const request = { prompt: 'a photo of a cat on a blue background', width: 128, height: 128, steps: sampleSteps, guidance: c.sampling.guidance, seed: 5 };
await backend.generate(request); // warm-up: sessions, caption cache
const sampleTimes: number[] = [];
for (let i = 0; i < sampleReps; i++) {
  const t0 = performance.now();
  await backend.generate(request);
  sampleTimes.push((performance.now() - t0) / 1000);
}
sampleTimes.sort((a, b) => a - b);
await peak.sample();
const p = peak.summary();
await peak.release();

const finetuneJob = finetuneTimes && {
  ...job(trainFlops + extractionFlops, finetuneTimes.total, p),
  training: job(trainFlops, finetuneTimes.training, p),
  ...(lora ? {} : { extraction: job(extractionFlops, finetuneTimes.extraction, p) }),
};
const result = {
  bench: 'floors',
  finetune: {
    type: finetuneType,
    priority,
    iterations,
    lora_rank: loraRank,
    batch,
    stage_tokens: stageTokens,
    steps_per_stage: stepsPerStage,
    images: imageCount,
  },
  sample: { tokens: sampleGrid.rows * sampleGrid.cols, steps: sampleSteps, cfg_batch: 2 },
  matmul_peak_gflops: p.gflops,
  finetune_floor: finetuneJob ?? 'skipped (--skip-finetune)',
  sample_floor: { ...job(sampleFlops, sampleTimes[0]!, p), median_s: +sampleTimes[Math.floor(sampleTimes.length / 2)]!.toFixed(2) },
  target: 'measured_over_floor <= 1.3',
  peak: p,
  load_1m_end: +loadavg()[0]!.toFixed(2),
};
if (args.json) console.log(JSON.stringify(result));
else console.dir(result, { depth: 4 });
