import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdamW } from '../../src/engine/adamw.ts';
import { Rng } from '../../src/engine/rng.ts';

describe('AdamW', () => {
  it('matches the closed-form update of Loshchilov & Hutter for two steps', () => {
    const p = Float32Array.from([1.0, -2.0]);
    const opt = new AdamW(new Map([['w', p]]), { lr: 0.1, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    const g1 = [0.5, -1.0];
    const g2 = [0.25, 2.0];
    opt.step({ w: g1 });
    opt.step({ w: g2 });
    // Reference computed by hand in float64.
    const ref = [1.0, -2.0].map((w0, i) => {
      let w = w0;
      let m = 0;
      let v = 0;
      [g1[i]!, g2[i]!].forEach((g, t) => {
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        const mh = m / (1 - 0.9 ** (t + 1));
        const vh = v / (1 - 0.999 ** (t + 1));
        w = w * (1 - 0.1 * 0.01) - (0.1 * mh) / (Math.sqrt(vh) + 1e-8);
      });
      return w;
    });
    assert.ok(Math.abs(p[0]! - ref[0]!) < 1e-6 && Math.abs(p[1]! - ref[1]!) < 1e-6, `${p} vs ${ref}`);
  });

  it('clips the global gradient norm and reports it', () => {
    const p = new Float32Array(2);
    const opt = new AdamW(new Map([['w', p]]), { lr: 1, weightDecay: 0, maxGradNorm: 1 });
    assert.equal(opt.step({ w: [3, 4] }), 5);
  });

  it('state round-trips (for checkpoints)', () => {
    const p = Float32Array.from([1, 2, 3]);
    const a = new AdamW(new Map([['w', p]]), { lr: 0.01 });
    a.step({ w: [1, 1, 1] });
    const q = Float32Array.from(p);
    const b = new AdamW(new Map([['w', q]]), { lr: 0.01 });
    b.load(a.state());
    a.step({ w: [0.5, -1, 2] });
    b.step({ w: [0.5, -1, 2] });
    assert.deepEqual(q, p);
  });

  it('updates a weight EMA in the same pass, bit-identical to a separate pass', () => {
    const init = [0.3, -1.2, 2.5, 0.01, -0.7];
    const grads = [
      [0.1, -0.4, 0.9, 0.0, 2.0],
      [-0.3, 0.2, 0.5, 1.5, -0.1],
      [0.05, 0.05, -0.6, 0.2, 0.3],
    ];
    const p = Float32Array.from(init);
    const e = Float32Array.from(init);
    const fused = new AdamW(new Map([['w', p]]), { lr: 0.05, maxGradNorm: 1 });
    const q = Float32Array.from(init);
    const f = Float32Array.from(init);
    const plain = new AdamW(new Map([['w', q]]), { lr: 0.05, maxGradNorm: 1 });
    for (const [k, g] of grads.entries()) {
      const d = 0.9 - 0.1 * k;
      fused.step({ w: g }, undefined, { decay: d, weights: new Map([['w', e]]) });
      plain.step({ w: g });
      for (let i = 0; i < f.length; i++) f[i] = d * f[i]! + (1 - d) * q[i]!;
    }
    assert.deepEqual(p, q);
    assert.deepEqual(e, f);
    assert.notDeepEqual(e, p);
    assert.throws(() => fused.step({ w: grads[0]! }, undefined, { decay: 0.9, weights: new Map() }), /EMA tensor/);
  });

  it('runs as the WebAssembly SIMD kernel, bit-identical to the TypeScript loops (clipping, EMA, tails, several stages)', () => {
    const sizes = [1, 3, 4, 7, 8192 * 2 + 5, 1000];
    const rng = new Rng(11);
    const init = sizes.map((n) => rng.fillNormal(new Float32Array(n)));
    const tensors = () => new Map(init.map((t, i) => [`w${i}`, Float32Array.from(t)]));
    const [pa, pb, ea, eb] = [tensors(), tensors(), tensors(), tensors()];
    const simd = new AdamW(pa, { lr: 0.01, maxGradNorm: 1 });
    const loops = new AdamW(pb, { lr: 0.01, maxGradNorm: 1, simd: false });
    assert.ok(simd.usesSimd, 'Node 20 has WebAssembly SIMD: the kernel failed to compile');
    assert.ok(!loops.usesSimd);
    for (let step = 0; step < 6; step++) {
      // Steps with tiny and huge gradients (clipped), and with and without the EMA.
      const grads = Object.fromEntries(sizes.map((n, i) => [`w${i}`, rng.fillNormal(new Float32Array(n), step % 2 ? 5 : 1e-3)]));
      const ema = step >= 2 ? (weights: Map<string, Float32Array>) => ({ decay: 0.99, weights }) : () => undefined;
      assert.equal(simd.step(grads, undefined, ema(ea)), loops.step(grads, undefined, ema(eb)));
    }
    const [sa, sb] = [simd.state(), loops.state()];
    for (const k of pa.keys()) {
      assert.deepEqual(pa.get(k), pb.get(k), k);
      assert.deepEqual(ea.get(k), eb.get(k), k);
      assert.deepEqual(sa.m[k], sb.m[k], k);
      assert.deepEqual(sa.v[k], sb.v[k], k);
    }
    assert.notDeepEqual(pa.get('w4'), Float32Array.from(init[4]!));
  });

  it('reports the gradient norm of many tensors in lanes as a float64 sum would (SIMD and TypeScript alike)', () => {
    const rng = new Rng(5);
    const sizes = [8192 * 3 + 11, 7, 64, 1];
    const grads = Object.fromEntries(sizes.map((n, i) => [`w${i}`, rng.fillNormal(new Float32Array(n))]));
    let exact = 0;
    for (const g of Object.values(grads)) for (const x of g) exact += x * x;
    for (const simd of [true, false]) {
      const params = new Map(sizes.map((n, i) => [`w${i}`, new Float32Array(n)]));
      const norm = new AdamW(params, { lr: 0.01, simd }).step(grads);
      assert.ok(Math.abs(norm - Math.sqrt(exact)) < 1e-12 * norm, `simd ${simd}: ${norm} vs ${Math.sqrt(exact)}`);
    }
  });

  it('minimises a quadratic', () => {
    const p = Float32Array.from([5, -3]);
    const opt = new AdamW(new Map([['w', p]]), { lr: 0.1, weightDecay: 0 });
    for (let i = 0; i < 500; i++) opt.step({ w: [2 * p[0]!, 2 * p[1]!] });
    assert.ok(Math.abs(p[0]!) < 0.05 && Math.abs(p[1]!) < 0.05, `${p}`);
  });
});
