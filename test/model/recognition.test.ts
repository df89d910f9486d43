// The recognition metric must recognise the real thing: real emoji scenes (at sizes and offsets
// the gallery does not use) rank their own concept first or near it, and a flat background
// with no object does not.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ConceptGallery, summariseRanks } from '../../src/model/eval/recognition.ts';
import { listConcepts, loadSprites, renderScene, type Sprite } from '../../src/model/pretrain/scenes.ts';

describe('concept recognition metric', () => {
  let sprites: Map<string, Sprite>;
  let gallery: ConceptGallery;
  before(async () => {
    // every third concept keeps the test quick (~90 of them, loaded and ranked); the scripts rank against the whole vocabulary
    const concepts = listConcepts()
      .filter((c) => c.category === 'Animals & Nature' || c.category === 'Food & Drink')
      .filter((_, i) => i % 3 === 0);
    sprites = await loadSprites(concepts);
    gallery = new ConceptGallery(sprites);
  });

  it('ranks real renders of a concept at the top', () => {
    const names = gallery.concepts.filter((_, i) => i % 7 === 0);
    const ranks = names.map((concept, i) => {
      const background = ['blue', 'pink'][i % 2]!;
      const img = renderScene({ background, objects: [{ concept, cx: 0.52, cy: 0.49, size: 0.63 }] }, sprites, 128, 128);
      return gallery.rank(img, concept, background);
    });
    const s = summariseRanks(ranks, gallery.concepts.length);
    assert.ok(s.top1 >= 0.8, `top-1 ${s.top1} (ranks ${ranks.join(',')})`);
    assert.ok(s.top5 >= 0.9, `top-5 ${s.top5}`);
  });

  it('does not recognise an empty background as the concept', () => {
    const img = renderScene({ background: 'yellow', objects: [] }, sprites, 128, 128);
    const ranks = gallery.concepts.slice(0, 40).map((c) => gallery.rank(img, c, 'yellow'));
    assert.ok(summariseRanks(ranks, gallery.concepts.length).top5 <= 5 / 40 + 1e-9);
  });
});
