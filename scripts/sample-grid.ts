// npm run samples -- [--out models/flux-mini/samples.png] [--steps 24] [--guidance 4] [--recognition 32] [--denoising 8] [--json]
// Renders flux-mini's fixed prompt list into a PNG grid (for the model card) and measures prompt
// adherence: how often the background colour of a sample is the colour its prompt named. Then
// measures recognition (eval/recognition.ts) on `--recognition` more samples of in-vocabulary
// concepts spread over the vocabulary: the rank of the prompted concept among all of them. Then,
// on `--denoising` concepts, the model's one-step clean-image error at several noise levels next to
// the ideal denoiser's (eval/ideal-denoiser.ts): how far the model is from having learnt its data.

import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { Rng } from '../src/engine/rng.ts';
import { imageIds } from '../src/model/codec/patches.ts';
import { centredFamily, denoisingErrors } from '../src/model/eval/ideal-denoiser.ts';
import { ConceptGallery, summariseRanks } from '../src/model/eval/recognition.ts';
import { cleanFromVelocity } from '../src/model/flux/prediction.ts';
import { FluxRunner } from '../src/model/flux/runner.ts';
import { FluxMiniBackend, vocabulary } from '../src/model/flux-mini/backend.ts';
import { borderColour, nearestColour } from '../src/model/flux-mini/background-colour.ts';
import { COLORS, centredCaption } from '../src/model/flux-mini/caption-vocabulary.ts';
import { loadFluxMiniConfig, textTokens } from '../src/model/flux-mini/config.ts';
import { loadFluxMiniWeights } from '../src/model/flux-mini/weights.ts';
import { listConcepts, loadSprites } from '../src/model/pretrain/scenes.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'models/flux-mini/samples.png' },
    steps: { type: 'string', default: '24' },
    guidance: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
    recognition: { type: 'string', default: '32' },
    denoising: { type: 'string', default: '8' },
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

for (const name of ['steps', 'guidance', 'recognition', 'denoising'] as const) {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v < 0 || (name !== 'guidance' && !Number.isInteger(v)))
    throw new Error(`--${name} must be a ${name === 'guidance' ? 'number' : 'whole number'} ≥ 0, got '${values[name]}'`);
}

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
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
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
  const { image } = await backend.generate({
    prompt: centredCaption(concept, background),
    width: 128,
    height: 128,
    steps: Number(values.steps),
    guidance: Number(values.guidance),
    seed: 2000 + i,
  });
  ranks.push(gallery.rank(image, concept, background));
}

const DENOISING_T = [0.3, 0.6, 0.8, 0.9, 1];
const nd = Number(values.denoising);
const totals = DENOISING_T.map((t) => ({ t, model: 0, ideal: 0 }));
if (nd > 0) {
  const c = backend.config;
  const patch = c.codec.patch;
  const side = c.codec.native_size / patch;
  const ids = imageIds({ rows: side, cols: side, patch });
  const runner = await FluxRunner.create({
    params: c.flux,
    weights: backend.weights.flux,
    shape: { batch: 1, imgTokens: side * side, txtTokens: textTokens(c) },
    prediction: c.prediction,
  });
  const rng = new Rng(3000);
  for (let i = 0; i < nd; i++) {
    const concept = vocab[Math.floor((i * vocab.length) / nd)]!;
    const background = colours[(i * 5) % colours.length]!;
    const { txt, y } = await backend.text.encode(centredCaption(concept, background));
    const family = centredFamily(sprites, concept, background, { size: c.codec.native_size, patch });
    const errors = await denoisingErrors(
      family,
      async (xt, t) => cleanFromVelocity(c.prediction, xt, await runner.forward({ img: xt, imgIds: ids, txt, y, timesteps: [t] }), t),
      DENOISING_T,
      rng,
    );
    errors.forEach((e, k) => {
      totals[k]!.model += e.model / nd;
      totals[k]!.ideal += e.ideal / nd;
    });
  }
  await runner.release();
}

const result = {
  samples: PROMPTS.length,
  background_colour_accuracy: +(colourHits / colourTotal).toFixed(3),
  recognition:
    n > 0 ? { ...summariseRanks(ranks, vocab.length), chance_top1: +(1 / vocab.length).toFixed(4), chance_top5: +(5 / vocab.length).toFixed(4) } : null,
  /** one-step clean-image MSE per value (pixels in [−1, 1]) of the model and of the ideal denoiser, on centred scenes */
  denoising_mse: nd > 0 ? totals.map((e) => ({ t: e.t, model: +e.model.toFixed(5), ideal: +e.ideal.toFixed(5) })) : null,
  seconds_per_sample: +gridSeconds.toFixed(2),
  out: values.out,
};
console.log(values.json ? JSON.stringify(result) : result);
