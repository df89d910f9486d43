// The shipped monocular depth estimator (models/flux-mini/depth-estimator.safetensors) against the
// exact depth of held-out scenes, including concepts it never saw, plus the plumbing around it:
// output at the input's size, the grey control image, the token layout and the resize.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DepthEstimator, depthControlImage, resizeDepth } from '../../src/model/conditioning/depth-estimator.ts';
import { buildDepthGraph, DEPTH_NET_CONFIG, depthToTokens, positionFeeds, tokensToDepth } from '../../src/model/conditioning/depth-network.ts';
import { heldOutDepthCases, scoreDepth } from '../../src/model/eval/depth-eval.ts';
import { groundDepth, renderSceneDepth } from '../../src/model/pretrain/scene-depth.ts';
import { CORE_CONCEPTS, HELD_OUT, listConcepts, loadSprites, renderScene, type Sprite } from '../../src/model/pretrain/scenes.ts';

// What the shipped weights reach on these 16 scenes (see depth-estimator.json): MEAN_RHO; the bars sit below it with margin.
const MEAN_RHO_BAR = 0.7;
const MIN_RHO_BAR = 0.3;

describe('depth estimator plumbing', () => {
  it('depth tokens are each 8×8 patch row-major, and back', () => {
    const W = 24;
    const H = 16;
    const d = Float32Array.from({ length: W * H }, (_, i) => i);
    const t = depthToTokens(d, W, H, 8);
    // token 1 is the patch at row 0, col 1: its first row is pixels 8..15 of image row 0
    assert.deepEqual([...t.subarray(64, 72)], [8, 9, 10, 11, 12, 13, 14, 15]);
    assert.deepEqual([...t.subarray(72, 74)], [W + 8, W + 9]);
    assert.deepEqual([...tokensToDepth(t, 2, 3, 8)], [...d]);
  });

  it('resizeDepth keeps constants, identity and ramps', () => {
    const c = resizeDepth(new Float32Array(12).fill(0.4), 4, 3, 10, 7);
    assert.equal(c.length, 70);
    for (const v of c) assert.ok(Math.abs(v - 0.4) < 1e-6);
    const d = Float32Array.from({ length: 12 }, (_, i) => i / 12);
    assert.equal(resizeDepth(d, 4, 3, 4, 3), d);
    // a horizontal ramp stays monotone in x when enlarged
    const ramp = resizeDepth(Float32Array.from([0, 1, 2, 3]), 4, 1, 9, 2);
    for (let x = 1; x < 9; x++) assert.ok(ramp[x]! >= ramp[x - 1]!);
  });

  it('the network maps [B, L, 192] patches to [B, L, 64] depths; position feeds fit it', () => {
    const g = buildDepthGraph(DEPTH_NET_CONFIG, 2, 6 * 4);
    assert.deepEqual(g.out.shape, [2, 24, 64]);
    const feeds = positionFeeds(DEPTH_NET_CONFIG, 6, 4, 2);
    for (const [name, data] of Object.entries(feeds)) assert.equal(data.length, g.graph.inputs.get(name)!.size, name);
    assert.ok([...g.store.params.keys()].includes('blocks.0.attn.qkv.weight'));
    assert.ok([...g.store.params.keys()].includes('head.proj.bias'));
  });
});

describe('shipped depth estimator', () => {
  let estimator: DepthEstimator;
  let sprites: Map<string, Sprite>;
  before(async () => {
    estimator = await DepthEstimator.load(1);
    sprites = await loadSprites(listConcepts().filter((c) => HELD_OUT.includes(c.name) || CORE_CONCEPTS.includes(c.name)));
  });
  after(() => estimator.release());

  it(`reaches a mean Spearman ≥ ${MEAN_RHO_BAR} on 16 held-out scenes`, async () => {
    const cases = heldOutDepthCases(sprites);
    assert.equal(cases.length, 16);
    assert.ok(cases.some((c) => c.spec.objects.every((o) => HELD_OUT.includes(o.concept))));
    const score = await scoreDepth((img) => estimator.estimate(img), cases);
    const detail = score.rhos.map((r) => r.toFixed(3)).join(' ');
    assert.ok(score.mean >= MEAN_RHO_BAR, `mean ρ ${score.mean.toFixed(4)} (${detail})`);
    assert.ok(score.min >= MIN_RHO_BAR, `min ρ ${score.min.toFixed(4)} (${detail})`);
  });

  it('returns depth at the input size, also for sizes off the 8 px grid, and a grey control image', async () => {
    const spec = { background: 'green', objects: [{ concept: 'penguin', cx: 0.4, cy: 0.55, size: 0.45 }] };
    const img = renderScene(spec, sprites, 203, 117);
    const d = await estimator.estimate(img);
    assert.equal(d.length, 203 * 117);
    for (const v of d) assert.ok(v >= 0 && v <= 1);
    const control = await depthControlImage(estimator, img);
    assert.equal(control.width, 203);
    assert.equal(control.height, 117);
    assert.equal(control.data.length, 203 * 117 * 3);
    for (let i = 0; i < 203 * 117; i++) {
      assert.equal(control.data[i * 3], control.data[i * 3 + 1]);
      assert.equal(control.data[i * 3], control.data[i * 3 + 2]);
    }
  });

  it('puts near objects brighter than the background, nearer at the bottom of the ground than at the top', async () => {
    for (const [concept, background] of [
      ['rocket', 'blue'],
      ['hamburger', 'white'],
      ['octopus', 'yellow'],
    ] as const) {
      const spec = { background, objects: [{ concept, cx: 0.5, cy: 0.5, size: 0.7 }] };
      const exact = renderSceneDepth(spec, sprites, 128, 128);
      const got = await estimator.estimate(renderScene(spec, sprites, 128, 128));
      let object = 0;
      let nObject = 0;
      let ground = 0;
      let nGround = 0;
      let top = 0;
      let bottom = 0;
      for (let y = 0; y < 128; y++) {
        for (let x = 0; x < 128; x++) {
          const i = y * 128 + x;
          if (exact[i]! > 0.6) {
            object += got[i]!;
            nObject++;
          } else if (Math.abs(exact[i]! - groundDepth(y, 128)) < 1e-6) {
            ground += got[i]!;
            nGround++;
            if (y < 8) top += got[i]! / (8 * 128);
            if (y >= 120) bottom += got[i]! / (8 * 128);
          }
        }
      }
      assert.ok(nObject > 2000 && nGround > 2000);
      const o = object / nObject;
      const g = ground / nGround;
      assert.ok(o > g + 0.2, `${concept}: object ${o.toFixed(3)} vs ground ${g.toFixed(3)}`);
      assert.ok(bottom > top + 0.1, `${concept}: ground bottom ${bottom.toFixed(3)} vs top ${top.toFixed(3)}`);
    }
  });
});
