// npm run bench:quality -- [--suite emoji|novel (bench/quality-novel.ts)] [--concepts 3] [--images 10] [--iterations 300] [--priority quality] [--type lora] [--json]
// DESIGN.md §5: finetunes the shipped base on concepts held out of pretraining and reports, base vs
// finetuned, (1) fidelity — mean nearest-neighbour similarity of "TOK …" samples to the training
// images in a fixed feature space, (2) whether fidelity rises with finetune_strength, and
// (3) prompt adherence — how often the background colour named in the prompt is the one drawn.

import { DEFAULT_LEARNING_RATE } from '../src/api/finetune-schemas.ts';
import { Rng } from '../src/engine/rng.ts';
import type { RgbImage, TrainRequest } from '../src/model/backend.ts';
import { nearestNeighbourSimilarity } from '../src/model/eval/similarity.ts';
import { FluxMiniBackend } from '../src/model/flux-mini/backend.ts';
import { borderColour, nearestColour } from '../src/model/flux-mini/background-colour.ts';
import { HELD_OUT, listConcepts, loadSprites, renderScene } from '../src/model/pretrain/scenes.ts';
import { parseArgs, peakRssMiB } from './lib/timing.ts';

const suiteAt = process.argv.indexOf('--suite');
if (suiteAt > 0 && process.argv[suiteAt + 1] === 'novel') {
  // The novel-concept suite (issue 10) is its own script; this one is the held-out emoji suite.
  await import('./quality-novel.ts');
  process.exit(0);
}

const args = parseArgs(process.argv.slice(2));
const conceptCount = Number(args.concepts ?? 3);
const imageCount = Number(args.images ?? 10);
const iterations = Number(args.iterations ?? 300);
const priority = String(args.priority ?? 'quality') as TrainRequest['priority'];
const finetuneType = String(args.type ?? 'lora') as TrainRequest['finetuneType'];
const samplesPerPrompt = Number(args.samples ?? 2);
const steps = Number(args.steps ?? 20);
const strengths = [0, 0.5, 1, 1.5];

const TRAIN_COLOURS = ['white', 'blue', 'green', 'yellow', 'pink'];
const TEST_COLOURS = ['purple', 'red', 'teal'];

const backend = await FluxMiniBackend.load();
const concepts = HELD_OUT.slice(0, conceptCount);
const sprites = await loadSprites(listConcepts().filter((c) => concepts.includes(c.name)));

async function samples(prompts: string[], lora?: { bytes: Uint8Array; strength: number }): Promise<RgbImage[]> {
  const out: RgbImage[] = [];
  for (const [i, prompt] of prompts.entries()) {
    for (let s = 0; s < samplesPerPrompt; s++) {
      const { image } = await backend.generate({ prompt, width: 128, height: 128, steps, guidance: 4, seed: 7000 + i * 10 + s, lora });
      out.push(image);
    }
  }
  return out;
}

function colourAccuracy(images: RgbImage[], colours: string[]): number {
  let hits = 0;
  images.forEach((img, i) => {
    hits += nearestColour(borderColour(img)) === colours[Math.floor(i / samplesPerPrompt)] ? 1 : 0;
  });
  return hits / images.length;
}

const perConcept = [];
for (const [ci, concept] of concepts.entries()) {
  const rng = new Rng(100 + ci);
  const examples = Array.from({ length: imageCount }, (_, i) => {
    const background = TRAIN_COLOURS[i % TRAIN_COLOURS.length]!;
    const image = renderScene(
      { background, objects: [{ concept, cx: 0.4 + 0.2 * rng.uniform(), cy: 0.4 + 0.2 * rng.uniform(), size: 0.55 + 0.25 * rng.uniform() }] },
      sprites,
      128,
      128,
    );
    return { image, caption: `TOK on a ${background} background` };
  });
  const references = examples.map((e) => e.image);
  const prompts = TRAIN_COLOURS.slice(0, 3).map((c) => `TOK on a ${c} background`);
  const t0 = performance.now();
  const trained = await backend.train({
    examples,
    iterations,
    learningRate: DEFAULT_LEARNING_RATE[finetuneType],
    priority,
    finetuneType,
    loraRank: 16,
    seed: ci,
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const fidelity: Record<string, number> = {};
  for (const strength of strengths) {
    const imgs = await samples(prompts, { bytes: trained.lora, strength });
    fidelity[String(strength)] = +nearestNeighbourSimilarity(imgs, references).toFixed(4);
  }
  const adherencePrompts = TEST_COLOURS.map((c) => `TOK on a ${c} background`);
  const adherence = colourAccuracy(await samples(adherencePrompts, { bytes: trained.lora, strength: 1 }), TEST_COLOURS);
  const values = strengths.slice(0, 3).map((s) => fidelity[String(s)]!);
  perConcept.push({
    concept,
    train_seconds: +trainSeconds.toFixed(1),
    final_loss: +trained.finalLoss.toFixed(4),
    fidelity_base: fidelity['0'],
    fidelity_finetuned: fidelity['1'],
    fidelity_by_strength: fidelity,
    rises_with_strength: values.every((v, i) => i === 0 || v > values[i - 1]!),
    colour_adherence_finetuned: +adherence.toFixed(3),
  });
}

const mean = (xs: number[]) => +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(4);
const result = {
  bench: 'quality',
  settings: { concepts, images: imageCount, iterations, priority, finetune_type: finetuneType, steps, samples_per_prompt: samplesPerPrompt },
  fidelity_base: mean(perConcept.map((c) => c.fidelity_base!)),
  fidelity_finetuned: mean(perConcept.map((c) => c.fidelity_finetuned!)),
  fidelity_ratio: +(mean(perConcept.map((c) => c.fidelity_finetuned!)) / mean(perConcept.map((c) => c.fidelity_base!))).toFixed(3),
  rises_with_strength: perConcept.every((c) => c.rises_with_strength),
  colour_adherence_finetuned: mean(perConcept.map((c) => c.colour_adherence_finetuned)),
  train_seconds_mean: mean(perConcept.map((c) => c.train_seconds)),
  /** the whole process: base model, training sessions and sampling runners (DESIGN.md §6: ≤ 2 GiB) */
  peak_rss_mib: Math.round(peakRssMiB()),
  per_concept: perConcept,
};
console.log(args.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
