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
});

describe('buildTrainingCaptions', () => {
  const img: RgbImage = { width: 1, height: 1, data: new Uint8Array(3) };
  const calls: number[] = [];
  const captioner: Captioner = {
    name: 'test',
    async caption(images) {
      calls.push(images.length);
      return images.map((_, i) => (i === 0 ? 'a cat on a mat' : null));
    },
  };
  const items = [
    { file: 'a.png', userCaption: null, loadImage: async () => img },
    { file: 'b.png', userCaption: 'my own words', loadImage: async () => img },
    { file: 'c.png', userCaption: null, loadImage: async () => img },
  ];

  it('user .txt wins; the rest are auto-captioned with the trigger word placed', async () => {
    const out = await buildTrainingCaptions(items, { mode: 'character', triggerWord: 'TOK', captioning: true }, captioner);
    assert.deepEqual(out, [
      { file: 'a.png', caption: 'TOK cat on a mat', source: 'auto' },
      { file: 'b.png', caption: 'my own words', source: 'user' },
      { file: 'c.png', caption: 'TOK', source: 'trigger_only' },
    ]);
    assert.deepEqual(calls, [2]);
  });

  it('captioning off: the captioner is never called', async () => {
    calls.length = 0;
    const out = await buildTrainingCaptions(items, { mode: 'style', triggerWord: 'zz', captioning: false }, captioner);
    assert.equal(out[0]!.caption, 'an image in the style of zz');
    assert.deepEqual(calls, []);
  });
});
