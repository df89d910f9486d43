// The exact depth of a composed scene: a ground plane receding upwards, cut-outs at depths that
// follow their size, composited with the very alpha renderScene draws them with.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import { COLORS } from '../../src/model/flux-mini/caption-vocabulary.ts';
import { depthToImage, GROUND_DEPTH, groundDepth, imageToDepth, layeredScene, objectDepth, renderSceneDepth } from '../../src/model/pretrain/scene-depth.ts';
import { listConcepts, loadSprites, renderScene, type Sprite } from '../../src/model/pretrain/scenes.ts';

const W = 96;
const H = 80;

/** A sprite with s's alpha channel and a flat colour. */
function recolour(s: Sprite, rgb: [number, number, number]): Sprite {
  const rgba = new Uint8Array(s.rgba);
  for (let i = 0; i < s.size * s.size; i++) rgba.set(rgb, i * 4);
  return { size: s.size, rgba };
}

function opaque(size: number, rgb: [number, number, number]): Sprite {
  const rgba = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) rgba.set([...rgb, 255], i * 4);
  return { size, rgba };
}

describe('scene depth', () => {
  let sprites: Map<string, Sprite>;
  before(async () => {
    sprites = await loadSprites(listConcepts().filter((c) => ['cat', 'tulip', 'pizza'].includes(c.name)));
  });

  it('an empty scene is the ground plane: 0.05 at the top row rising linearly to 0.3 at the bottom', () => {
    const d = renderSceneDepth({ background: 'blue', objects: [] }, sprites, W, H);
    assert.equal(d.length, W * H);
    for (let y = 0; y < H; y++) {
      const want = GROUND_DEPTH.top + ((GROUND_DEPTH.bottom - GROUND_DEPTH.top) * y) / (H - 1);
      for (let x = 0; x < W; x++) assert.ok(Math.abs(d[y * W + x]! - want) < 1e-6, `(${x}, ${y}) ${d[y * W + x]} vs ${want}`);
    }
    assert.ok(Math.abs(d[0]! - 0.05) < 1e-6 && Math.abs(d[(H - 1) * W]! - 0.3) < 1e-6);
  });

  it('object depth follows size: bigger is nearer, clamped to [0.4, 1]', () => {
    assert.ok(Math.abs(objectDepth(0.35) - 0.45) < 1e-12);
    assert.ok(Math.abs(objectDepth(0.85) - 0.95) < 1e-12);
    assert.equal(objectDepth(0.1), 0.4);
    assert.equal(objectDepth(1.2), 1);
    assert.ok(objectDepth(0.6) > objectDepth(0.45));
  });

  it("a single object's footprint is where renderScene differs from the background", () => {
    const spec = { background: 'teal', objects: [{ concept: 'cat', cx: 0.45, cy: 0.55, size: 0.6 }] };
    const img = renderScene(spec, sprites, W, H);
    const d = renderSceneDepth(spec, sprites, W, H);
    const bg = COLORS.teal!;
    const obj = objectDepth(0.6);
    let inside = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const changed = [0, 1, 2].some((c) => img.data[i * 3 + c] !== bg[c]);
        const alpha = (d[i]! - groundDepth(y, H)) / (obj - groundDepth(y, H));
        // a drawn pixel has some alpha; an undrawn one (the sprite transparent or its colour that of the ground) little
        if (changed) assert.ok(alpha > 0, `(${x}, ${y}) drawn but at ground depth`);
        else assert.ok(alpha < 0.5, `(${x}, ${y}) undrawn but alpha ${alpha}`);
        if (alpha > 0.5) inside++;
      }
    }
    assert.ok(inside > 0.15 * W * H, `footprint ${inside} px`);
  });

  it("depth's alpha equals the alpha renderScene composites with, to the grey level", () => {
    // white paint with the cat's own alpha over black: the drawn grey is 20 + 235·alpha
    const white = new Map([['cat', recolour(sprites.get('cat')!, [255, 255, 255])]]);
    const spec = { background: 'black', objects: [{ concept: 'cat', cx: 0.6, cy: 0.4, size: 0.7 }] };
    const img = renderScene(spec, white, W, H);
    const d = renderSceneDepth(spec, white, W, H);
    const obj = objectDepth(0.7);
    let worst = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const drawn = (img.data[i * 3]! - 20) / 235;
        const alpha = (d[i]! - groundDepth(y, H)) / (obj - groundDepth(y, H));
        worst = Math.max(worst, Math.abs(drawn - alpha));
      }
    }
    assert.ok(worst <= 0.6 / 235 + 1e-6, `worst alpha gap ${worst}`);
  });

  it('later objects are in front of earlier ones where they overlap, whatever their size', () => {
    const boxes = new Map([
      ['big', opaque(16, [255, 0, 0])],
      ['small', opaque(16, [0, 255, 0])],
    ]);
    const big = { concept: 'big', cx: 0.4, cy: 0.5, size: 0.6 };
    const small = { concept: 'small', cx: 0.6, cy: 0.5, size: 0.4 };
    const at = (d: Float32Array, x: number, y: number) => d[Math.round(y * H) * W + Math.round(x * W)]!;
    const smallOverBig = renderSceneDepth({ background: 'white', objects: [big, small] }, boxes, W, H);
    const bigOverSmall = renderSceneDepth({ background: 'white', objects: [small, big] }, boxes, W, H);
    // (0.55, 0.5) lies inside both squares
    assert.ok(Math.abs(at(smallOverBig, 0.55, 0.5) - objectDepth(0.4)) < 1e-6);
    assert.ok(Math.abs(at(bigOverSmall, 0.55, 0.5) - objectDepth(0.6)) < 1e-6);
    // outside the overlap each keeps its own depth
    for (const d of [smallOverBig, bigOverSmall]) {
      assert.ok(Math.abs(at(d, 0.2, 0.5) - objectDepth(0.6)) < 1e-6);
      assert.ok(Math.abs(at(d, 0.75, 0.5) - objectDepth(0.4)) < 1e-6);
      assert.ok(Math.abs(at(d, 0.5, 0.05) - groundDepth(Math.round(0.05 * H), H)) < 1e-6);
    }
    // the colours agree on who is in front
    const img = renderScene({ background: 'white', objects: [big, small] }, boxes, W, H);
    const i = (Math.round(0.5 * H) * W + Math.round(0.55 * W)) * 3;
    assert.deepEqual([...img.data.subarray(i, i + 3)], [0, 255, 0]);
  });

  it('depthToImage and imageToDepth are grey levels of round(255·d)', () => {
    const d = new Float32Array([0, 0.5, 1, 0.2, -0.1, 1.3]);
    const img = depthToImage(d, 3, 2);
    assert.equal(img.width, 3);
    assert.equal(img.height, 2);
    assert.deepEqual([...img.data], [0, 0, 0, 128, 128, 128, 255, 255, 255, 51, 51, 51, 0, 0, 0, 255, 255, 255]);
    const back = imageToDepth(img);
    assert.deepEqual(
      [...back].map((v) => Math.round(v * 255)),
      [0, 128, 255, 51, 0, 255],
    );
    const mixed = imageToDepth({ width: 1, height: 1, data: new Uint8Array([0, 51, 102]) });
    assert.ok(Math.abs(mixed[0]! - 0.2) < 1e-6);
  });

  it('a two-object scene has depth of the right size and range', () => {
    const spec = {
      background: 'pink',
      objects: [
        { concept: 'tulip', cx: 0.28, cy: 0.5, size: 0.42 },
        { concept: 'pizza', cx: 0.72, cy: 0.5, size: 0.42 },
      ],
    };
    const d = renderSceneDepth(spec, sprites, 128, 128);
    assert.equal(d.length, 128 * 128);
    for (const v of d) assert.ok(v >= 0 && v <= 1);
    assert.ok(Math.max(...d) > 0.5);
  });

  it('layered scenes draw 1–3 cut-outs far to near', () => {
    const rng = new Rng(7);
    const counts = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const spec = layeredScene(rng, ['cat', 'tulip', 'pizza']);
      counts.add(spec.objects.length);
      for (let j = 1; j < spec.objects.length; j++) assert.ok(spec.objects[j]!.size >= spec.objects[j - 1]!.size);
      for (const o of spec.objects) assert.ok(o.size >= 0.2 && o.size <= 0.85 && o.cx >= 0.1 && o.cx <= 0.9);
    }
    assert.deepEqual([...counts].sort(), [1, 2, 3]);
  });
});
