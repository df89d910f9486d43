// The procedural pretraining shapes: they render, their captions fit the text encoder, their scenes
// keep the outline visible, and none of them is (or is drawn like) a concept of the novel suite.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import { NOVEL_CONCEPTS } from '../../src/model/eval/novel-concepts.ts';
import { loadFluxMiniConfig } from '../../src/model/flux-mini/config.ts';
import { shapeScene } from '../../src/model/pretrain/scenes.ts';
import { listShapes, PATTERNS, renderShape, SHAPES, shapeColours, shapeName } from '../../src/model/pretrain/shapes.ts';

test('no shape or pattern of pretraining is a noun or design of the novel suite', () => {
  const words = new Set([...Object.keys(SHAPES), ...PATTERNS]);
  for (const c of NOVEL_CONCEPTS) {
    assert.ok(!words.has(c.noun), `${c.noun} is a pretraining shape`);
    for (const w of c.name.split(' ')) if (w !== 'striped' && w !== 'dotted') assert.ok(!words.has(w), `${w} of ${c.name} is a pretraining word`);
  }
  // the suite's own patterns are none of ours
  for (const w of ['ringed', 'checker', 'zigzag', 'chevron', 'petal', 'split', 'hex', 'crescent']) assert.ok(!words.has(w));
});

test('every shape sprite has a solid interior, a transparent corner and a caption that fits', () => {
  const maxBytes = loadFluxMiniConfig().text_encoder.max_bytes;
  const specs = listShapes();
  assert.equal(specs.length, 8 * 8 * 5);
  assert.equal(new Set(specs.map(shapeName)).size, specs.length, 'caption words are unique');
  for (const s of specs.filter((_, i) => i % 7 === 0)) {
    const sprite = renderShape(s, 32);
    let opaque = 0;
    for (let i = 3; i < sprite.rgba.length; i += 4) if (sprite.rgba[i] === 255) opaque++;
    assert.ok(opaque > 32 * 32 * 0.2, `${shapeName(s)}: ${opaque} opaque pixels`);
    assert.equal(sprite.rgba[3], 0, `${shapeName(s)}: corner is transparent`);
    // the longest form: "an orange and black pentagon at the bottom, purple background"
    assert.ok(Buffer.byteLength(`an ${shapeName(s)} at the bottom, purple background`) <= maxBytes - 2);
  }
});

test('a shape scene never puts a shape on a background of its own colours', () => {
  const specs = new Map(listShapes().map((s) => [shapeName(s), s]));
  const rng = new Rng(5);
  for (let i = 0; i < 500; i++) {
    const { spec, caption } = shapeScene(rng, [...specs.keys()], (n) => shapeColours(specs.get(n)!));
    const s = specs.get(spec.objects[0]!.concept)!;
    assert.ok(!shapeColours(s).includes(spec.background), `${caption}`);
    assert.ok(caption.includes(shapeName(s)) && caption.includes(`${spec.background} background`), caption);
  }
});
