import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import type { RgbImage } from '../../src/model/backend.ts';
import { photoLike, proceduralShape, SHAPE_KINDS } from '../../src/model/eval/ood-images.ts';
import { layoutPhrase, objectCaption } from '../../src/model/flux-mini/caption-vocabulary.ts';
import { captionConfidence, GAIN_AT_HALF, MARGIN_AT_HALF, NAMING_CONFIDENCE } from '../../src/model/flux-mini/captioner.ts';
import { foregroundBox, medianBorderColour, plainBackground, positionPhrase } from '../../src/model/flux-mini/image-layout.ts';

/** A `size`² image of `bg` with a `fg` square of side `side` (pixels) whose top-left corner is (x, y). */
function square(size: number, bg: number[], fg: number[], x: number, y: number, side: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) data.set(i >= x && i < x + side && j >= y && j < y + side ? fg : bg, (j * size + i) * 3);
  return { width: size, height: size, data };
}

describe('what the captioner measures', () => {
  it('reads a plain border as its named colour, even with the subject touching it', () => {
    assert.equal(plainBackground(square(100, [220, 40, 40], [0, 0, 255], 30, 30, 40)), 'red');
    assert.equal(plainBackground(square(100, [35, 155, 165], [255, 255, 0], 0, 30, 40)), 'teal');
    assert.deepEqual(medianBorderColour(square(100, [1, 2, 3], [200, 200, 200], 0, 0, 50)), [1, 2, 3]);
  });

  it('names no colour for a busy border or a colour far from every named one', () => {
    const rng = new Rng(3);
    const noise: RgbImage = { width: 64, height: 64, data: Uint8Array.from({ length: 64 * 64 * 3 }, () => rng.int(256)) };
    assert.equal(plainBackground(noise), null);
    assert.equal(plainBackground(square(64, [200, 120, 120], [0, 0, 0], 20, 20, 20)), null, 'a pink-salmon between named colours');
  });

  it('finds the subject and says where it is in the captions’ own words', () => {
    const left = foregroundBox(square(100, [245, 245, 245], [20, 20, 20], 10, 40, 25))!;
    assert.deepEqual([left.cx, left.cy, left.width, left.height], [0.225, 0.525, 0.25, 0.25]);
    assert.equal(positionPhrase(left), 'on the left');
    assert.equal(positionPhrase(foregroundBox(square(100, [245, 245, 245], [20, 20, 20], 35, 65, 30))!), 'at the bottom');
    assert.equal(positionPhrase(foregroundBox(square(100, [245, 245, 245], [20, 20, 20], 30, 30, 40))!), null, 'centred');
    assert.equal(foregroundBox(square(100, [245, 245, 245], [20, 20, 20], 0, 0, 0)), null, 'nothing but background');
  });

  it('writes places as pretraining captions do', () => {
    assert.equal(objectCaption('cat', 'red', null), 'a cat on a red background');
    assert.equal(objectCaption('owl', 'teal', 'on the left'), 'an owl on the left, teal background');
    assert.equal(layoutPhrase('teal', 'on the left'), 'on the left, teal background');
    assert.equal(layoutPhrase('red', null), 'on a red background');
  });

  it('the out-of-vocabulary images are what they claim: shapes on plain backgrounds, photos on busy ones', () => {
    const rng = new Rng(11);
    for (const kind of SHAPE_KINDS) assert.ok(foregroundBox(proceduralShape(rng, kind, 96)), kind);
    const busy = Array.from({ length: 6 }, () => plainBackground(photoLike(rng, 96))).filter((b) => b === null).length;
    assert.ok(busy >= 4, `${busy} of 6 photo-like images have a busy background`);
  });
});

describe('caption confidence', () => {
  it('is 0.5 exactly at both calibrated thresholds and limited by the weaker of the two', () => {
    assert.equal(captionConfidence({ gain: GAIN_AT_HALF, margin: MARGIN_AT_HALF }), NAMING_CONFIDENCE);
    assert.ok(captionConfidence({ gain: 0.5, margin: MARGIN_AT_HALF * 0.9 }) < NAMING_CONFIDENCE, 'a strong gain does not make up for a weak margin');
    assert.ok(captionConfidence({ gain: GAIN_AT_HALF * 0.9, margin: 1 }) < NAMING_CONFIDENCE, 'nor a strong margin for a weak gain');
    assert.equal(captionConfidence({ gain: -0.2, margin: 0.5 }), 0, 'worse than no caption at all');
    assert.equal(captionConfidence({ gain: 1, margin: 1 }), 1);
  });
});
