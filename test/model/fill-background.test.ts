// The fill "box shows" figure: the share of a mask's repainted pixels that are the background, over
// the whole mask and over its inner ring, on images whose answer is known.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RgbImage } from '../../src/model/backend.ts';
import { distanceToKept, maskedBackgroundShare } from '../../src/model/eval/fill-background.ts';

const S = 64;
const GREEN = [50, 170, 70] as const;
const ORANGE: [number, number, number] = [245, 140, 30];
// the mask: the box [16, 48)²
const inBox = (p: number) => p % S >= 16 && p % S < 48 && Math.floor(p / S) >= 16 && Math.floor(p / S) < 48;

function paint(inside: (x: number, y: number) => boolean): RgbImage {
  const data = new Uint8Array(S * S * 3);
  for (let p = 0; p < S * S; p++) data.set(inside(p % S, Math.floor(p / S)) ? ORANGE : GREEN, p * 3);
  return { width: S, height: S, data };
}

describe('fill background share', () => {
  it('distance to the nearest kept pixel is Chebyshev, 0 on kept pixels', () => {
    const d = distanceToKept(inBox, S, S);
    assert.equal(d[0], 0);
    assert.equal(d[16 * S + 16], 1, 'a corner of the box touches the kept pixels diagonally');
    assert.equal(d[20 * S + 30], 5);
    assert.equal(d[31 * S + 31], 16, 'the centre');
  });

  it('a box painted full of the object scores 0; an object drawn inside it with room around scores 1 on the ring', () => {
    const full = maskedBackgroundShare(
      paint((x, y) => inBox(y * S + x)),
      inBox,
      GREEN,
      4,
    );
    assert.deepEqual(full, { inside: 0, ring: 0 });
    // a disc of radius 10 at the box centre: 4 px of ring are all background, the inside share is 1 − disc / box
    const disc = paint((x, y) => (x + 0.5 - 32) ** 2 + (y + 0.5 - 32) ** 2 <= 100);
    const got = maskedBackgroundShare(disc, inBox, GREEN, 4);
    assert.equal(got.ring, 1);
    let area = 0;
    for (let p = 0; p < S * S; p++) if (disc.data[p * 3] === ORANGE[0]) area++;
    assert.ok(Math.abs(got.inside - (1 - area / (32 * 32))) < 1e-12, `inside ${got.inside}`);
  });

  it('counts colours within the tolerance as background and refuses an empty mask', () => {
    const near = paint(() => false);
    for (let p = 0; p < S * S; p++) near.data.set([GREEN[0] + 20, GREEN[1] - 20, GREEN[2]], p * 3);
    assert.equal(maskedBackgroundShare(near, inBox, GREEN, 4).inside, 1);
    assert.equal(maskedBackgroundShare(near, inBox, GREEN, 4, 20).inside, 0);
    assert.throws(() => maskedBackgroundShare(near, () => false, GREEN, 4), /repaints nothing/);
  });
});
