// npm run samples -- [--out models/flux-mini/samples.png] [--steps 24] [--guidance 4] [--recognition 32] [--json]
// Renders flux-mini's fixed prompt list into a PNG grid (for the model card) and measures prompt
// adherence: how often the background colour of a sample is the colour its prompt named. Then
// measures recognition (eval/recognition.ts) on `--recognition` more samples of in-vocabulary
// concepts spread over the vocabulary: the rank of the prompted concept among all of them.

import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { FluxMiniBackend } from '../src/model/flux-mini/backend.ts';
import { loadFluxMiniConfig } from '../src/model/flux-mini/config.ts';
import { loadFluxMiniWeights } from '../src/model/flux-mini/weights.ts';
import { nearestColour } from '../src/model/flux-mini/captioner.ts';
import { borderColour } from '../src/model/eval/similarity.ts';
import { ConceptGallery, summariseRanks } from '../src/model/eval/recognition.ts';
import { COLORS, centredCaption, listConcepts, loadSprites } from '../src/model/pretrain/scenes.ts';
import { vocabulary } from '../src/model/flux-mini/backend.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'models/flux-mini/samples.png' },
    steps: { type: 'string', default: '24' },
    guidance: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
    recognition: { type: 'string', default: '32' },
    /** Another weights file / config (e.g. a checkpoint copy while pretraining writes the shipped one). */
    weights: { type: 'string' },
    config: { type: 'string' },
    /** Overrides the config's schedule shift μ at 256 tokens (for trying schedules). */
    shift: { type: 'string' },
  },
});

export const PROMPTS = [
  'a cat on a blue background',
  'a cat on a yellow background',
  'a dog on a green background',
  'an apple on a white background',
  'a banana on a purple background',
  'a frog on a pink background',
  'a pizza on a teal background',
  'a lion face on an orange background',
  'an elephant on the left, gray background',
  'a fish at the top, blue background',
  'an apple and a banana on a black background',
  'a snail on a brown background',
  'a tulip on a white background',
  'a turtle on a red background',
  'a doughnut on a green background',
  'a whale on a yellow background',
];

const backend = await FluxMiniBackend.load({
  weights: values.weights ? loadFluxMiniWeights(values.weights) : undefined,
  config: values.config ? loadFluxMiniConfig(values.config) : undefined,
});
if (values.shift !== undefined) backend.config.sampling.base_shift = Number(values.shift);
const tiles: { input: Buffer; left: number; top: number }[] = [];
let colourHits = 0;
let colourTotal = 0;
const t0 = performance.now();
for (const [i, prompt] of PROMPTS.entries()) {
  const { image } = await backend.generate({ prompt, width: 128, height: 128, steps: Number(values.steps), guidance: Number(values.guidance), seed: 1000 + i });
  const named = /(\w+) background/.exec(prompt)?.[1];
  if (named) {
    colourTotal++;
    if (nearestColour(borderColour(image)) === named) colourHits++;
  }
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
  tiles.push({ input: png, left: (i % 4) * 130, top: Math.floor(i / 4) * 130 });
}
await sharp({ create: { width: 4 * 130 - 2, height: Math.ceil(PROMPTS.length / 4) * 130 - 2, channels: 3, background: '#ffffff' } })
  .composite(tiles)
  .png()
  .toFile(values.out!);
const gridSeconds = (performance.now() - t0) / 1000 / PROMPTS.length;

const vocab = vocabulary();
const sprites = await loadSprites(listConcepts().filter((c) => vocab.includes(c.name)));
const gallery = new ConceptGallery(sprites, vocab);
const colours = Object.keys(COLORS);
const n = Number(values.recognition);
const ranks: number[] = [];
for (let i = 0; i < n; i++) {
  const concept = vocab[Math.floor((i * vocab.length) / n)]!;
  const background = colours[i % colours.length]!;
  const { image } = await backend.generate({ prompt: centredCaption(concept, background), width: 128, height: 128, steps: Number(values.steps), guidance: Number(values.guidance), seed: 2000 + i });
  ranks.push(gallery.rank(image, concept, background));
}

const result = {
  samples: PROMPTS.length,
  background_colour_accuracy: +(colourHits / colourTotal).toFixed(3),
  recognition: n > 0 ? { ...summariseRanks(ranks, vocab.length), chance_top1: +(1 / vocab.length).toFixed(4), chance_top5: +(5 / vocab.length).toFixed(4) } : null,
  seconds_per_sample: +gridSeconds.toFixed(2),
  out: values.out,
};
console.log(values.json ? JSON.stringify(result) : result);
