// npm run pretrain -- [--hours 1] [--steps N] [--lr 3e-4] [--seed 1] [--threads 2] [--high-every 2] [--decay-minutes 0] [--reinit <key prefix>]… [--vocabulary core|all] [--shapes 0.4]
// Pretrains (or resumes) flux-mini; see src/model/pretrain/pretrain.ts and models/flux-mini/MODEL_CARD.md.

import { parseArgs } from 'node:util';
import { loadFluxMiniConfig, MODEL_DIR } from '../src/model/flux-mini/config.ts';
import { pretrain } from '../src/model/pretrain/pretrain.ts';

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '1' },
    steps: { type: 'string', default: '1000000' },
    lr: { type: 'string', default: '3e-4' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string' },
    'checkpoint-every': { type: 'string', default: '250' },
    checkpoint: { type: 'string', default: 'data/pretrain/flux-mini.ckpt.safetensors' },
    'reset-ema': { type: 'boolean', default: false },
    // re-initialise parameters by key prefix, e.g. --reinit final_layer.linear (new prediction target)
    reinit: { type: 'string', multiple: true, default: [] },
    // 'core' (48 concepts, default) or 'all' (every Animals & Nature / Food & Drink emoji)
    vocabulary: { type: 'string', default: 'core' },
    // fraction of scenes that draw a procedural shape (src/model/pretrain/shapes.ts) instead of emoji
    shapes: { type: 'string', default: '0' },
    // 3 (two 64 px batches per 128 px one) until step ~5000, then 2: samples at the native size lagged.
    'high-every': { type: 'string', default: '2' },
    // the last minutes of a run anneal the learning rate to 10% (warmup-stable-decay)
    'decay-minutes': { type: 'string', default: '0' },
  },
});

await pretrain({
  config: loadFluxMiniConfig(),
  modelDir: MODEL_DIR,
  checkpointPath: values.checkpoint!,
  seed: Number(values.seed),
  lr: Number(values.lr),
  maxSteps: Number(values.steps),
  deadline: Date.now() + Number(values.hours) * 3600_000,
  checkpointEvery: Number(values['checkpoint-every']),
  emaDecay: 0.999,
  highEvery: Number(values['high-every']),
  decayMs: Number(values['decay-minutes']) * 60_000,
  resetEma: values['reset-ema'],
  reinit: values.reinit,
  vocabulary: values.vocabulary as 'core' | 'all',
  shapeShare: Number(values.shapes),
  threads: values.threads ? Number(values.threads) : undefined,
  log: (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
});
