// The shipped flux-mini's built-in captioner names what it knows and nothing else: a centred scene of its
// vocabulary by its name, but a held-out emoji, a procedural shape or a photo-like picture never (the
// finetune would bind the trigger word to a wrong word). Thresholds: npm run calibrate:captioner.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import type { RgbImage } from '../../src/model/backend.ts';
import { NOVEL_CONCEPTS, renderNovelPhoto } from '../../src/model/eval/novel-concepts.ts';
import { photoLike } from '../../src/model/eval/ood-images.ts';
import { FluxMiniBackend, vocabulary } from '../../src/model/flux-mini/backend.ts';
import { NAMING_CONFIDENCE } from '../../src/model/flux-mini/captioner.ts';
import { listConcepts, loadSprites, renderScene, type Sprite } from '../../src/model/pretrain/scenes.ts';

describe('flux-mini built-in captioner', () => {
  let backend: FluxMiniBackend;
  let sprites: Map<string, Sprite>;
  before(async () => {
    backend = await FluxMiniBackend.load({ threads: 2 });
    sprites = await loadSprites(listConcepts().filter((c) => ['cow', 'doughnut', 'penguin', 'rocket'].includes(c.name)));
  });
  const scene = (concept: string, background: string): RgbImage =>
    renderScene({ background, objects: [{ concept, cx: 0.5, cy: 0.5, size: 0.7 }] }, sprites, 128, 128);

  it('names a centred scene of its own vocabulary, confidently', async () => {
    const [cow, doughnut] = await backend.caption([scene('cow', 'blue'), scene('doughnut', 'green')]);
    assert.equal(cow!.text, 'a cow on a blue background');
    assert.equal(doughnut!.text, 'a doughnut on a green background');
    for (const c of [cow!, doughnut!]) assert.ok(c.confidence! >= NAMING_CONFIDENCE, `confidence ${c.confidence}`);
  });

  it('names no held-out emoji, novel logo or photo, and says what it measured instead', async () => {
    assert.ok(!vocabulary().includes('penguin') && !vocabulary().includes('rocket'));
    const logo = await renderNovelPhoto(NOVEL_CONCEPTS[0]!, new Rng(1), 128);
    const captions = await backend.caption([scene('penguin', 'red'), scene('rocket', 'yellow'), logo.image, photoLike(new Rng(5), 128)]);
    for (const c of captions) assert.equal(c.text, null, `named: ${c.text} (confidence ${c.confidence})`);
    assert.deepEqual(
      captions.slice(0, 2).map((c) => c.layout),
      ['on a red background', 'on a yellow background'],
    );
    assert.equal(captions[3]!.background, null, 'a photo-like backdrop is not one plain colour');
  });
});
