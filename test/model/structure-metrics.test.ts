import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { edgeF1, maskEdgeStep, psnr } from '../../src/model/eval/structure.ts';

describe('edgeF1', () => {
  const w = 10;
  const h = 10;
  const line = (x: number) => Uint8Array.from({ length: w * h }, (_, i) => (i % w === x ? 255 : 0));
  it('is 1 for identical maps and within the tolerance, 0 beyond it', () => {
    assert.equal(edgeF1(line(3), line(3), w, h).f1, 1);
    assert.equal(edgeF1(line(5), line(3), w, h, 2).f1, 1);
    assert.equal(edgeF1(line(6), line(3), w, h, 2).f1, 0);
  });
  it('counts precision and recall apart', () => {
    const both = line(3).map((v, i) => v || (i % w === 8 ? 255 : 0));
    const r = edgeF1(both, line(3), w, h, 0);
    assert.equal(r.precision, 0.5);
    assert.equal(r.recall, 1);
    assert.ok(Math.abs(r.f1 - 2 / 3) < 1e-12);
    assert.equal(edgeF1(new Uint8Array(w * h), line(3), w, h).f1, 0);
  });
});

describe('psnr', () => {
  it('is infinite for equal pixels and 20·log10(255/d) for a uniform difference d, over the kept pixels only', () => {
    const a = { width: 2, height: 1, data: Uint8Array.of(10, 10, 10, 0, 0, 0) };
    const b = { width: 2, height: 1, data: Uint8Array.of(10, 10, 10, 5, 5, 5) };
    assert.equal(
      psnr(a, b, (i) => i === 0),
      Infinity,
    );
    assert.ok(Math.abs(psnr(a, b, (i) => i === 1) - 20 * Math.log10(255 / 5)) < 1e-9);
  });
});

describe('maskEdgeStep', () => {
  // a 10×10 image whose right half (x ≥ 5) is repainted
  const repaint = (p: number) => p % 10 >= 5;
  const image = (f: (x: number) => number) => ({ width: 10, height: 10, data: Uint8Array.from({ length: 300 }, (_, i) => f(Math.floor(i / 3) % 10)) });
  it('is the offset of a pasted-in flat patch and 0 for a continuous one', () => {
    assert.equal(
      maskEdgeStep(
        image((x) => (x >= 5 ? 130 : 100)),
        repaint,
      ),
      30,
    );
    assert.equal(
      maskEdgeStep(
        image(() => 77),
        repaint,
      ),
      0,
    );
  });
  it('sees a ramp as its slope over the 2·gap − 1 pixels between the pair', () => {
    assert.equal(
      maskEdgeStep(
        image((x) => 10 * x),
        repaint,
        2,
      ),
      30,
    );
    assert.equal(
      maskEdgeStep(
        image((x) => 10 * x),
        repaint,
        1,
      ),
      10,
    );
  });
});
