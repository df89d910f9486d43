// npm run bench:quality -- --suite novel [--concepts 10] [--type full|lora|both] [--priority quality|speed|high_res_only|all]
//   [--iterations 300] [--samples 2] [--steps 20] [--grid models/flux-mini/novel-grid.png] [--json]
// Issue 10: finetunes the shipped base on made-up concepts it never saw (src/model/eval/novel-concepts.ts), as a user
// would through the API with its defaults (mode product, 300 iterations, priority quality; 8 photos, 3 with captions,
// the rest auto-captioned by the built-in captioner), and reports per concept, base vs finetuned:
//  - silhouette IoU of "TOK" samples against the training photos, beside the photos' own mutual IoU;
//  - colour / layout nearest-neighbour similarity (eval/similarity.ts), beside the photos' own leave-one-out similarity
//    (mutual_similarity: 0.38-0.74 for these concepts, so an absolute 0.93 is above what the photos reach among
//    themselves), and recognition: is the sample nearest to
//    its own concept's photos among all the suite's concepts (top-1);
//  - background-colour adherence for "a TOK on a <colour> background";
//  - fidelity (similarity) at strengths 0 / 0.5 / 1 / 1.5, and whether it rises from 0 to 1;
//  - the captions the captioner wrote (source, confidence): it must name none of these concepts.
// Targets (issue 10), mean at strength 1 with full/300/quality: silhouette ≥ 0.9 × mutual, colour similarity ≥ 0.93,
// adherence ≥ 0.9, lora at least as good as full.
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEFAULT_LEARNING_RATE } from '../src/api/finetune-schemas.ts';
import { backendCaptioner } from '../src/dataset/captioner.ts';
import { buildTrainingCaptions } from '../src/dataset/training-captions.ts';
import type { FinetuneType, Priority, RgbImage } from '../src/model/backend.ts';
import { NOVEL_CONCEPTS } from '../src/model/eval/novel-concepts.ts';
import { novelDataset } from '../src/model/eval/novel-dataset.ts';
import { mutualSilhouetteScore, silhouetteScore } from '../src/model/eval/silhouette.ts';
import { features, nearestNeighbourSimilarity, similarity } from '../src/model/eval/similarity.ts';
import { FluxMiniBackend } from '../src/model/flux-mini/backend.ts';
import { borderColour, nearestColour } from '../src/model/flux-mini/background-colour.ts';
import { peakRssMiB } from './lib/timing.ts';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--suite' && a !== 'novel'),
  options: {
    concepts: { type: 'string' },
    type: { type: 'string' },
    priority: { type: 'string' },
    iterations: { type: 'string' },
    samples: { type: 'string' },
    steps: { type: 'string' },
    grid: { type: 'string' },
    json: { type: 'boolean' },
  },
});
// --concepts N: the first N; --concepts "checker cube,crescent mark": those (recipe runs on the weakest)
const concepts = /^\d+$/.test(args.concepts ?? '')
  ? NOVEL_CONCEPTS.slice(0, Number(args.concepts))
  : args.concepts
    ? args.concepts.split(',').map((name) => NOVEL_CONCEPTS.find((c) => c.name === name.trim()) ?? fail(`--concepts: no concept '${name}'`))
    : NOVEL_CONCEPTS;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}
const types: FinetuneType[] = args.type === 'full' || args.type === 'lora' ? [args.type] : ['full', 'lora'];
const priorities: Priority[] = args.priority === 'all' ? ['speed', 'quality', 'high_res_only'] : [(args.priority ?? 'quality') as Priority];
const iterations = Number(args.iterations ?? 300);
const samplesPerPrompt = Number(args.samples ?? 2);
const steps = Number(args.steps ?? 20);
const strengths = [0, 0.5, 1, 1.5];
const PROMPTS = ['a photo of TOK', 'a TOK on a white background'];
const ADHERENCE_COLOURS = ['purple', 'red', 'teal'];

const backend = await FluxMiniBackend.load();
const captioner = backendCaptioner(backend);

async function sampleAll(prompts: string[], lora?: { bytes: Uint8Array; strength: number }): Promise<RgbImage[]> {
  const out: RgbImage[] = [];
  for (const [i, prompt] of prompts.entries()) {
    for (let s = 0; s < samplesPerPrompt; s++) {
      out.push((await backend.generate({ prompt, width: 128, height: 128, steps, guidance: 4, seed: 7000 + i * 10 + s, lora })).image);
    }
  }
  return out;
}

// seeded by the concept's place in the whole suite, so a subset's figures are the full run's
const datasets = await Promise.all(concepts.map((c) => novelDataset(c, NOVEL_CONCEPTS.indexOf(c))));
const refFeatures = datasets.map((d) => d.map((e) => features(e.image)));
/** Top-1 recognition: the sample is closer to its own concept's photos than to any other concept's. */
function recognised(sample: RgbImage, own: number): boolean {
  const f = features(sample);
  const best = refFeatures.map((refs) => Math.max(...refs.map((r) => similarity(f, r))));
  return best.every((b, i) => i === own || b < best[own]!);
}
const r3 = (x: number) => +x.toFixed(3);
/** The photos' own leave-one-out nearest-neighbour similarity: what a sample drawn like one more photo would score. */
const mutualSimilarity = (refs: RgbImage[]) =>
  refs.reduce(
    (a, img, k) =>
      a +
      nearestNeighbourSimilarity(
        [img],
        refs.filter((_, j) => j !== k),
      ),
    0,
  ) / refs.length;
const mean = (xs: number[]) => r3(xs.reduce((a, b) => a + b, 0) / xs.length);

const runs = [];
const gridRows: { name: string; images: RgbImage[] }[] = [];
for (const type of types) {
  for (const priority of priorities) {
    const perConcept = [];
    for (const [ci, concept] of concepts.entries()) {
      const data = datasets[ci]!;
      const references = data.map((e) => e.image);
      const t0 = performance.now();
      const captions = await buildTrainingCaptions(
        data.map((e, k) => ({ file: `${k}.jpg`, userCaption: e.userCaption, loadImage: async () => e.image })),
        { mode: 'product', triggerWord: 'TOK', captioning: true },
        captioner,
      );
      const trained = await backend.train({
        examples: data.map((e, k) => ({ image: e.image, caption: captions[k]!.caption })),
        iterations,
        learningRate: DEFAULT_LEARNING_RATE[type],
        priority,
        finetuneType: type,
        loraRank: 32,
        seed: NOVEL_CONCEPTS.indexOf(concept),
      });
      const seconds = (performance.now() - t0) / 1000;
      const byStrength: Record<string, { silhouette: number; similarity: number; recognition: number }> = {};
      let atOne: RgbImage[] = [];
      let atZero: RgbImage[] = [];
      for (const strength of strengths) {
        const imgs = await sampleAll(PROMPTS, strength === 0 ? undefined : { bytes: trained.lora, strength });
        if (strength === 1) atOne = imgs;
        if (strength === 0) atZero = imgs;
        byStrength[String(strength)] = {
          silhouette: r3(silhouetteScore(imgs, references)),
          similarity: r3(nearestNeighbourSimilarity(imgs, references)),
          recognition: r3(imgs.filter((im) => recognised(im, ci)).length / imgs.length),
        };
      }
      const adherenceImgs = await sampleAll(
        ADHERENCE_COLOURS.map((c) => `a TOK on a ${c} background`),
        { bytes: trained.lora, strength: 1 },
      );
      const adherence =
        adherenceImgs.filter((im, k) => nearestColour(borderColour(im)) === ADHERENCE_COLOURS[Math.floor(k / samplesPerPrompt)]).length / adherenceImgs.length;
      const fid = strengths.slice(0, 3).map((s) => byStrength[String(s)]!.similarity);
      perConcept.push({
        concept: concept.name,
        seconds: +seconds.toFixed(1),
        final_loss: +trained.finalLoss.toFixed(4),
        mutual_silhouette: r3(mutualSilhouetteScore(references)),
        silhouette_base: byStrength['0']!.silhouette,
        silhouette: byStrength['1']!.silhouette,
        mutual_similarity: r3(mutualSimilarity(references)),
        similarity_base: byStrength['0']!.similarity,
        similarity: byStrength['1']!.similarity,
        recognition_base: byStrength['0']!.recognition,
        recognition: byStrength['1']!.recognition,
        adherence: r3(adherence),
        by_strength: byStrength,
        rises_with_strength: fid.every((v, i) => i === 0 || v > fid[i - 1]!),
        captions: captions.map((c) => ({ caption: c.caption, source: c.source, confidence: c.confidence })),
      });
      if (type === types[0] && priority === priorities[0])
        gridRows.push({ name: concept.name, images: [...references.slice(0, 4), ...atZero.slice(0, 2), ...atOne.slice(0, 4)] });
      process.stderr.write(
        `${type}/${priority} ${concept.name}: ${JSON.stringify(perConcept.at(-1)!, ['silhouette', 'mutual_silhouette', 'similarity', 'adherence', 'seconds'])}\n`,
      );
    }
    runs.push({
      finetune_type: type,
      priority,
      mutual_silhouette: mean(perConcept.map((c) => c.mutual_silhouette)),
      silhouette_base: mean(perConcept.map((c) => c.silhouette_base)),
      silhouette: mean(perConcept.map((c) => c.silhouette)),
      silhouette_vs_mutual: r3(mean(perConcept.map((c) => c.silhouette)) / mean(perConcept.map((c) => c.mutual_silhouette))),
      mutual_similarity: mean(perConcept.map((c) => c.mutual_similarity)),
      similarity_base: mean(perConcept.map((c) => c.similarity_base)),
      similarity: mean(perConcept.map((c) => c.similarity)),
      recognition_base: mean(perConcept.map((c) => c.recognition_base)),
      recognition: mean(perConcept.map((c) => c.recognition)),
      adherence: mean(perConcept.map((c) => c.adherence)),
      rises_with_strength: perConcept.filter((c) => c.rises_with_strength).length / perConcept.length,
      captions_naming_a_subject: perConcept.flatMap((c) => c.captions).filter((c) => c.source === 'auto').length,
      seconds_mean: mean(perConcept.map((c) => c.seconds)),
      per_concept: perConcept,
    });
  }
}

if (args.grid) {
  // Rows: concept; columns: 4 training photos | 2 base samples | 4 finetuned samples (strength 1).
  const cell = 96;
  const tiles = [];
  for (const [r, row] of gridRows.entries()) {
    for (const [c, img] of row.images.entries()) {
      const png = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
        .resize(cell, cell, { kernel: 'nearest' })
        .png()
        .toBuffer();
      tiles.push({ input: png, left: c * cell + (c >= 4 ? 8 : 0) + (c >= 6 ? 8 : 0), top: r * cell });
    }
  }
  await sharp({ create: { width: 10 * cell + 16, height: gridRows.length * cell, channels: 3, background: '#ffffff' } })
    .composite(tiles)
    .png()
    .toFile(args.grid);
}

const result = {
  bench: 'quality',
  suite: 'novel',
  settings: { concepts: concepts.map((c) => c.name), iterations, samples_per_prompt: samplesPerPrompt, steps, prompts: PROMPTS },
  targets: { silhouette_vs_mutual: 0.9, similarity: 0.93, adherence: 0.9 },
  peak_rss_mib: Math.round(peakRssMiB()),
  runs,
};
if (args.json) console.log(JSON.stringify(result));
else console.log(JSON.stringify({ ...result, runs: runs.map(({ per_concept, ...r }) => r) }, null, 2));
