import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { harmonicFill } from '../../src/model/conditioning/seamless.ts';

/** Gauss–Seidel sweeps to convergence: the slow independent reference for the CG solver. */
function gaussSeidel(values: Float32Array, known: Uint8Array, w: number, h: number): Float64Array {
  const x = Float64Array.from(values, (v, p) => (known[p] ? v : 0));
  for (let sweep = 0; sweep < 20000; sweep++) {
    for (let p = 0; p < w * h; p++) {
      if (known[p]) continue;
      const cx = p % w;
      const cy = (p - cx) / w;
      let s = 0;
      let k = 0;
      for (const [dx, dy] of [
        [-1, 0],
        [1, 0],
        [0, -1],
        [0, 1],
      ] as const) {
        const nx = cx + dx;
        const ny = cy + dy;
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        s += x[ny * w + nx]!;
        k++;
      }
      x[p] = s / k;
    }
  }
  return x;
}

describe('harmonicFill', () => {
  const w = 12;
  const h = 9;
  const box = Uint8Array.from({ length: w * h }, (_, p) => {
    const x = p % w;
    const y = Math.floor(p / w);
    return x >= 3 && x < 9 && y >= 2 && y < 7 ? 0 : 1;
  });
  it('keeps the known pixels and reproduces a linear field (harmonic) inside a hole exactly', () => {
    const linear = Float32Array.from({ length: w * h * 2 }, (_, i) => {
      const p = i >> 1;
      return (i & 1 ? -2 : 3) * (p % w) + 0.5 * Math.floor(p / w) + 1;
    });
    const holed = linear.map((v, i) => (box[i >> 1] ? v : 1e6));
    const out = harmonicFill(holed, box, w, h, 2, 1e-10);
    for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i]! - linear[i]!) < 1e-4, `${i}: ${out[i]} vs ${linear[i]}`);
  });
  it('matches Gauss–Seidel on an irregular hole that touches the image border (free edge)', () => {
    const known = Uint8Array.from({ length: w * h }, (_, p) => {
      const x = p % w;
      const y = Math.floor(p / w);
      return (x - 2) ** 2 + (y - 3) ** 2 < 10 || x > 8 ? 0 : 1;
    });
    const values = Float32Array.from({ length: w * h }, (_, p) => Math.sin(p * 0.7) * 40);
    const out = harmonicFill(values, known, w, h, 1, 1e-10);
    const ref = gaussSeidel(values, known, w, h);
    for (let p = 0; p < w * h; p++) assert.ok(Math.abs(out[p]! - ref[p]!) < 1e-3, `${p}: ${out[p]} vs ${ref[p]}`);
  });
  it('is zero where nothing is known and the input where everything is', () => {
    const values = Float32Array.from({ length: w * h }, (_, p) => p);
    assert.deepEqual([...harmonicFill(values, new Uint8Array(w * h), w, h, 1)], new Array(w * h).fill(0));
    assert.deepEqual([...harmonicFill(values, new Uint8Array(w * h).fill(1), w, h, 1)], [...values]);
  });
});
