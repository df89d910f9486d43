// npm run calibrate:captioner -- [--per-class 8] [--json]
// How often flux-mini's built-in captioner names a subject, and how often the name is right, on images
// of its own vocabulary (centred as the captions say, at the captions' named places, anywhere at any
// size) and on images it has never seen (held-out emoji, procedural shapes, photo-like pictures).
// The captioner's thresholds (src/model/flux-mini/captioner.ts) were set from this script's evidence
// table: the classifier's gain over no caption and its margin over the runner-up, per image.
import { parseArgs } from 'node:util';
import { Rng } from '../src/engine/rng.ts';
import type { RgbImage } from '../src/model/backend.ts';
import { photoLike, proceduralShape, SHAPE_KINDS } from '../src/model/eval/ood-images.ts';
import { FluxMiniBackend, vocabulary } from '../src/model/flux-mini/backend.ts';
import { COLORS } from '../src/model/flux-mini/caption-vocabulary.ts';
import { describeImage } from '../src/model/flux-mini/captioner.ts';
import { HELD_OUT, listConcepts, loadSprites, type Placement, renderScene } from '../src/model/pretrain/scenes.ts';

const { values: args } = parseArgs({ options: { 'per-class': { type: 'string' }, json: { type: 'boolean' }, threads: { type: 'string' } } });
const perClass = Number(args['per-class'] ?? 8);
const backend = await FluxMiniBackend.load({ threads: args.threads ? Number(args.threads) : undefined });
const vocab = vocabulary();
const rng = new Rng(20261203);
const colours = Object.keys(COLORS);
const known = await loadSprites(listConcepts().filter((c) => vocab.includes(c.name)));
const unknown = await loadSprites(listConcepts().filter((c) => HELD_OUT.includes(c.name)));
const PLACES: [number, number][] = [
  [0.28, 0.5],
  [0.72, 0.5],
  [0.5, 0.28],
  [0.5, 0.72],
];

interface Case {
  group: string;
  truth: string | null;
  image: RgbImage;
}
const cases: Case[] = [];
const scene = (sprites: typeof known, concept: string, place: Omit<Placement, 'concept'>) =>
  renderScene({ background: colours[rng.int(colours.length)]!, objects: [{ concept, ...place }] }, sprites, 256, 256);
for (let i = 0; i < perClass; i++) {
  const c = () => vocab[rng.int(vocab.length)]!;
  let t = c();
  cases.push({ group: 'vocabulary, centred', truth: t, image: scene(known, t, { cx: 0.5, cy: 0.5, size: 0.55 + 0.3 * rng.uniform() }) });
  t = c();
  const [cx, cy] = PLACES[i % 4]!;
  cases.push({ group: 'vocabulary, at a named place', truth: t, image: scene(known, t, { cx, cy, size: 0.4 + 0.1 * rng.uniform() }) });
  t = c();
  cases.push({
    group: 'vocabulary, anywhere',
    truth: t,
    image: scene(known, t, { cx: 0.3 + 0.4 * rng.uniform(), cy: 0.3 + 0.4 * rng.uniform(), size: 0.3 + 0.45 * rng.uniform() }),
  });
  cases.push({
    group: 'held-out emoji',
    truth: null,
    image: scene(unknown, HELD_OUT[i % HELD_OUT.length]!, { cx: 0.5, cy: 0.5, size: 0.55 + 0.3 * rng.uniform() }),
  });
  cases.push({ group: 'procedural shapes', truth: null, image: proceduralShape(rng, SHAPE_KINDS[i % SHAPE_KINDS.length]!) });
  cases.push({ group: 'photo-like', truth: null, image: photoLike(rng) });
}

const rows: {
  group: string;
  truth: string | null;
  named: string | null;
  confidence: number | null;
  gain: number | null;
  margin: number | null;
  best: string | null;
}[] = [];
for (const [k, c] of cases.entries()) {
  const { caption, evidence: ev } = await describeImage(backend, c.image, vocab);
  const named = caption.text ? (ev?.best ?? null) : null;
  rows.push({
    group: c.group,
    truth: c.truth,
    named,
    confidence: caption.confidence,
    gain: ev?.gain ?? null,
    margin: ev?.margin ?? null,
    best: ev?.best ?? null,
  });
  if (!args.json) process.stderr.write(`\r${k + 1}/${cases.length}`);
}
if (!args.json) process.stderr.write('\n');

const groups = [...new Set(rows.map((r) => r.group))].map((group) => {
  const rs = rows.filter((r) => r.group === group);
  const named = rs.filter((r) => r.named);
  return {
    group,
    images: rs.length,
    named: named.length,
    named_right: named.filter((r) => r.named === r.truth).length,
    best_guess_right: rs.filter((r) => r.truth && r.best === r.truth).length,
  };
});
const allNamed = rows.filter((r) => r.named);
const inVocab = rows.filter((r) => r.truth);
const summary = {
  per_class: perClass,
  precision: allNamed.length ? +(allNamed.filter((r) => r.named === r.truth).length / allNamed.length).toFixed(3) : null,
  recall_vocabulary: +(inVocab.filter((r) => r.named === r.truth).length / inVocab.length).toFixed(3),
  named_out_of_vocabulary: rows.filter((r) => !r.truth && r.named).length,
  out_of_vocabulary_images: rows.filter((r) => !r.truth).length,
  groups,
};
if (args.json) {
  console.log(JSON.stringify({ ...summary, rows }));
} else {
  console.log('group                          images  named  right  (best guess right)');
  for (const g of groups)
    console.log(
      `${g.group.padEnd(30)} ${String(g.images).padStart(6)} ${String(g.named).padStart(6)} ${String(g.named_right).padStart(6)}  (${g.best_guess_right})`,
    );
  console.log(
    `precision ${summary.precision} · recall on the vocabulary ${summary.recall_vocabulary} · named out of vocabulary ${summary.named_out_of_vocabulary}/${summary.out_of_vocabulary_images}`,
  );
  console.log('evidence (gain over no caption, margin over the runner-up, confidence):');
  for (const r of rows)
    console.log(
      `  ${r.group.padEnd(30)} ${(r.truth ?? '-').padEnd(14)} best ${(r.best ?? '-').padEnd(14)} gain ${r.gain?.toFixed(3) ?? '  - '} margin ${r.margin?.toFixed(3) ?? '  - '} conf ${r.confidence ?? '-'} ${r.named ? `NAMED ${r.named}` : ''}`,
    );
}
