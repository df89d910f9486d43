// npm run train:control -- --kind canny|depth|fill [--minutes 20] [--steps 3000] [--lr 1e-3] [--rank 32] [--seed 1] [--free-layout 0.75] [--threads 2]
//   [--object-box 0.4] (fill: share of object-box masks) [--from-adapter] (start from the shipped adapter) [--out DIR] (write the adapter there, not to models/flux-mini)
// Trains (or resumes) one flux-mini control variant; see src/model/pretrain/train-control.ts and MODEL_CARD.md.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { StructuralKind } from '../src/model/backend.ts';
import { adapterFile, STRUCTURAL_KINDS } from '../src/model/conditioning/control-variant.ts';
import { loadFluxMiniConfig, MODEL_DIR } from '../src/model/flux-mini/config.ts';
import { TextEncoderSession } from '../src/model/flux-mini/text-session.ts';
import { loadFluxMiniWeights } from '../src/model/flux-mini/weights.ts';
import { PRETRAIN_CATEGORIES } from '../src/model/pretrain/pretrain.ts';
import { sceneControlImage } from '../src/model/pretrain/scene-control-images.ts';
import { CORE_CONCEPTS, HELD_OUT, listConcepts, loadSprites } from '../src/model/pretrain/scenes.ts';
import { trainControl } from '../src/model/pretrain/train-control.ts';
import { readTensors } from '../src/model/tensors.ts';

const { values } = parseArgs({
  options: {
    kind: { type: 'string' },
    minutes: { type: 'string', default: '20' },
    steps: { type: 'string', default: '3000' },
    lr: { type: 'string', default: '1e-3' },
    rank: { type: 'string', default: '32' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string' },
    'checkpoint-every': { type: 'string', default: '100' },
    // canny learnt nothing from pretraining scenes, whose captions already say the layout
    'free-layout': { type: 'string', default: '0' },
    'object-box': { type: 'string' },
    'from-adapter': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const kind = values.kind as StructuralKind;
if (!STRUCTURAL_KINDS.includes(kind)) throw new Error(`--kind must be one of ${STRUCTURAL_KINDS.join(', ')}`);
const config = loadFluxMiniConfig();
const weights = loadFluxMiniWeights();
const threads = values.threads ? Number(values.threads) : undefined;
const modelDir = values.out ? pathToFileURL(`${resolve(values.out)}/`) : MODEL_DIR;
// continuing a shipped adapter: its weights and how many steps it had had
const shipped = values['from-adapter'] ? readFileSync(new URL(adapterFile(kind), MODEL_DIR)) : undefined;
const initAdapter = shipped && {
  tensors: readTensors(shipped).tensors,
  steps: Number(readTensors(shipped).metadata.step ?? 0),
  from: `models/flux-mini/${adapterFile(kind)}`,
};
// the pretraining vocabulary: the variants learn structure, not new concepts
const concepts = listConcepts().filter((x) => PRETRAIN_CATEGORIES.includes(x.category) && !HELD_OUT.includes(x.name) && CORE_CONCEPTS.includes(x.name));
await trainControl({
  kind,
  config,
  weights: weights.flux,
  text: await TextEncoderSession.create(config, weights.text, threads),
  sprites: await loadSprites(concepts),
  concepts: concepts.map((x) => x.name),
  controlImage: sceneControlImage(kind),
  freeLayout: Number(values['free-layout']),
  objectBox: values['object-box'] === undefined ? undefined : Number(values['object-box']),
  initAdapter,
  modelDir,
  checkpointPath: values.out ? join(values.out, `${kind}.ckpt.safetensors`) : `data/control/${kind}.ckpt.safetensors`,
  seed: Number(values.seed),
  lr: Number(values.lr),
  rank: Number(values.rank),
  steps: Number(values.steps),
  deadline: Date.now() + Number(values.minutes) * 60_000,
  checkpointEvery: Number(values['checkpoint-every']),
  threads,
  log: (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
});
