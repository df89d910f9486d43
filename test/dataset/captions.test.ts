import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Captioner } from '../../src/dataset/captioner.ts';
import { buildTrainingCaptions } from '../../src/dataset/training-captions.ts';
import { placeTriggerWord } from '../../src/dataset/trigger-word.ts';
import type { RgbImage } from '../../src/model/backend.ts';

describe('placeTriggerWord', () => {
  it('character/product: the subject is the trigger word', () => {
    assert.equal(placeTriggerWord('character', 'TOK', 'a man with curly hair on a bench.'), 'TOK man with curly hair on a bench');
    assert.equal(placeTriggerWord('product', 'mycstm', 'sunglasses on grass'), 'mycstm, sunglasses on grass');
    assert.equal(placeTriggerWord('character', 'TOK', null), 'TOK');
  });
  it('style: "…, in the style of TOK"', () => {
    assert.equal(placeTriggerWord('style', 'TOK', 'a kangaroo wearing ski goggles'), 'a kangaroo wearing ski goggles, in the style of TOK');
    assert.equal(placeTriggerWord('style', 'TOK', null), 'an image in the style of TOK');
  });
  it('general: trigger word prepended to the whole-image caption', () => {
    assert.equal(placeTriggerWord('general', 'TOK', 'a red cat on a blue background'), 'TOK, a red cat on a blue background');
  });
  it('a subject the captioner could not name: the trigger word takes its place, with what was measured', () => {
    const measured = { text: null, layout: 'on the left, teal background', background: 'teal', confidence: 0.1 };
    assert.equal(placeTriggerWord('product', 'TOK', measured), 'a TOK on the left, teal background');
    assert.equal(placeTriggerWord('style', 'TOK', measured), 'an image on a teal background, in the style of TOK');
    assert.equal(placeTriggerWord('general', 'TOK', measured), 'TOK on the left, teal background');
    const nothing = { text: null, layout: null, background: null, confidence: null };
    assert.equal(placeTriggerWord('character', 'TOK', nothing), 'TOK');
    assert.equal(placeTriggerWord('style', 'TOK', nothing), 'an image in the style of TOK');
    assert.equal(placeTriggerWord('general', 'TOK', nothing), 'TOK');
  });
});

describe('buildTrainingCaptions', () => {
  const img: RgbImage = { width: 1, height: 1, data: new Uint8Array(3) };
  const calls: number[] = [];
  const captioner: Captioner = {
    name: 'test',
    async caption(images) {
      calls.push(images.length);
      // One image per call (so progress can follow): the first named, the second only measured.
      const n = calls.length;
      return images.map(() =>
        n % 2 === 1
          ? { text: 'a cat on a mat', layout: 'on a mat', background: null, confidence: 0.8 }
          : { text: null, layout: 'on a red background', background: 'red', confidence: 0.2 },
      );
    },
  };
  const items = [
    { file: 'a.png', userCaption: null, loadImage: async () => img },
    { file: 'b.png', userCaption: 'my own words', loadImage: async () => img },
    { file: 'c.png', userCaption: null, loadImage: async () => img },
  ];

  it('user .txt wins; the rest are auto-captioned with the trigger word placed', async () => {
    const progress: number[] = [];
    const out = await buildTrainingCaptions(items, { mode: 'character', triggerWord: 'TOK', captioning: true, onProgress: (p) => progress.push(p) }, captioner);
    assert.deepEqual(out, [
      { file: 'a.png', caption: 'TOK cat on a mat', source: 'auto', confidence: 0.8 },
      { file: 'b.png', caption: 'my own words', source: 'user', confidence: null },
      { file: 'c.png', caption: 'a TOK on a red background', source: 'measured', confidence: 0.2 },
    ]);
    assert.deepEqual(calls, [1, 1]);
    assert.deepEqual(progress, [0.5, 1]);
  });

  it('captioning off: the captioner is never called', async () => {
    calls.length = 0;
    const out = await buildTrainingCaptions(items, { mode: 'style', triggerWord: 'zz', captioning: false }, captioner);
    assert.equal(out[0]!.caption, 'an image in the style of zz');
    assert.deepEqual(calls, []);
  });
});
