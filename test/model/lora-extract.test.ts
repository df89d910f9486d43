import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { Rng } from '../../src/engine/rng.ts';
import { extractLora } from '../../src/model/lora/extract.ts';

describe('LoRA extraction', () => {
  it('recovers an exactly low-rank ΔW with near-zero error', async () => {
    const rng = new Rng(3);
    const [out, inF, r] = [48, 32, 4];
    const b = rng.fillNormal(new Float32Array(out * r));
    const a = rng.fillNormal(new Float32Array(r * inF));
    const delta = new Float32Array(out * inF);
    for (let i = 0; i < out; i++) for (let j = 0; j < inF; j++) for (let k = 0; k < r; k++) delta[i * inF + j]! += b[i * r + k]! * a[k * inF + j]!;
    const lora = await extractLora(delta, out, inF, 8);
    assert.ok(lora.relativeError < 1e-5, `error ${lora.relativeError}`);
    assert.equal(lora.loraA.length, 8 * inF);
    assert.equal(lora.loraB.length, out * 8);
  });

  it('the error equals the energy of the discarded singular values', async () => {
    const rng = new Rng(5);
    const m = new Matrix(40, 30);
    for (let i = 0; i < 40; i++) for (let j = 0; j < 30; j++) m.set(i, j, rng.normal() * (1 + (j < 5 ? 5 : 0)));
    const full = new SingularValueDecomposition(m).diagonal;
    const flat = new Float32Array(40 * 30);
    for (let i = 0; i < 40; i++) for (let j = 0; j < 30; j++) flat[i * 30 + j] = m.get(i, j);
    const { relativeError } = await extractLora(flat, 40, 30, 6);
    const total = full.reduce((a, s) => a + s * s, 0);
    const rest = full.slice(6).reduce((a, s) => a + s * s, 0);
    assert.ok(Math.abs(relativeError - Math.sqrt(rest / total)) < 1e-3, `${relativeError} vs ${Math.sqrt(rest / total)}`);
  });
});
