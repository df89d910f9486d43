// Gradients through the autoencoder (for finetuning it or using it inside a training loss): on
// the flux-pipeline-tiny weights, the analytic directional derivative of L = Σ out ⊙ R along a
// random direction, with respect to the fed input and to weights of each module kind (Downsample,
// AttnBlock, GroupNorm, Upsample, nin_shortcut), against central finite differences in float32.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.ts';
import type { Value } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Session } from '../../src/engine/session.ts';
import { AE_IO, type AeGraph, buildAeDecodeGraph, buildAeEncodeGraph } from '../../src/model/ae/build.ts';
import { parseAeParams } from '../../src/model/ae/config.ts';
import { frozenAeWeights } from '../../src/model/ae/weights.ts';
import { readTensors } from '../../src/model/tensors.ts';

const DIR = new URL('../../../shared/vectors/flux-pipeline-tiny/', import.meta.url);
const params = parseAeParams((JSON.parse(readFileSync(new URL('config.json', DIR), 'utf8')) as { configs: { ae: unknown } }).configs.ae);
const weights = readTensors(readFileSync(new URL('ae.safetensors', DIR))).tensors;
const shape = { batch: 1, height: 16, width: 16 };

async function check(g: AeGraph, out: Value, wrt: string[]): Promise<void> {
  const rng = new Rng(5);
  const r = rng.fillNormal(new Float32Array(out.size));
  const loss = F.sumAll(F.mul(out, F.tensor(g.graph, r, out.shape)));
  const vars = [g.input, ...wrt.map((k) => g.store.params.get(k)!)];
  const grads = grad(loss, vars);
  const outputs: Record<string, Value> = { loss };
  grads.forEach((v, i) => {
    outputs[`g${i}`] = v;
  });
  const frozen = frozenAeWeights(g.store.params, weights);
  for (const k of wrt) frozen.delete(g.store.params.get(k)!);
  const session = await Session.create({ outputs, frozen });
  const feeds: Record<string, Float32Array> = { [g.input.name]: rng.fillUniform(new Float32Array(g.input.size), -1, 1) };
  for (const k of wrt) feeds[k] = Float32Array.from(weights.get(k)!.data);
  const base = await session.run(feeds);
  // The AE's weights are small (~0.05): a 1e-2 step along a unit-variance direction leaves the
  // linear regime (the float32 gradchecks' usual step), 1e-4 drowns in float32 rounding.
  const h = 1e-3;
  const bad: string[] = [];
  for (let i = 0; i < vars.length; i++) {
    const name = vars[i]!.name;
    const x0 = feeds[name]!;
    const v = rng.fillNormal(new Float32Array(x0.length));
    const gi = base[`g${i}`] as Float32Array;
    let analytic = 0;
    for (let j = 0; j < v.length; j++) analytic += gi[j]! * v[j]!;
    const at = async (s: number) => {
      const x = x0.map((xj, j) => xj + s * h * v[j]!);
      return Number(((await session.run({ ...feeds, [name]: x }, ['loss'])).loss as Float32Array)[0]);
    };
    const numeric = ((await at(1)) - (await at(-1))) / (2 * h);
    if (!(Math.abs(analytic - numeric) <= 2e-2 * Math.max(1, Math.abs(numeric)))) bad.push(`${name}: analytic ${analytic} vs ${numeric}`);
  }
  await session.release();
  assert.deepEqual(bad, []);
}

describe('autoencoder gradients match finite differences (float32)', () => {
  it('through the encoder', async () => {
    const g = buildAeEncodeGraph(params, shape);
    await check(g, g.outputs[AE_IO.z]!, [
      'encoder.down.0.downsample.conv.weight',
      'encoder.down.1.block.0.nin_shortcut.weight',
      'encoder.mid.attn_1.k.weight',
      'encoder.norm_out.weight',
    ]);
  });

  it('through the decoder', async () => {
    const g = buildAeDecodeGraph(params, shape);
    await check(g, g.outputs[AE_IO.image]!, [
      'decoder.up.1.upsample.conv.weight',
      'decoder.mid.attn_1.q.weight',
      'decoder.up.0.block.0.norm1.bias',
      'decoder.conv_in.bias',
    ]);
  });
});
