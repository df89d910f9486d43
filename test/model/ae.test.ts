// BFL's AutoEncoder against ../shared/vectors/flux-pipeline-tiny (reference run in float64 from
// the float32-stored weights of ae.safetensors; ch 32, ch_mult [1,2,2], so ×4 downsampling):
// the encoder's moments, encode's scaled posterior mean and decode, in a float32 graph (ONNX
// Runtime's CPU Conv is float32-only), to 1e-5 relative (max|a − b| / max|b|).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildAeEncodeGraph } from '../../src/model/ae/build.ts';
import { type AutoEncoderParams, parseAeParams } from '../../src/model/ae/config.ts';
import { AeRunner } from '../../src/model/ae/runner.ts';
import { unusedAeWeights } from '../../src/model/ae/weights.ts';
import { type FloatArray, readTensors, type Tensors } from '../../src/model/tensors.ts';
import { relErr } from './flux-tiny-fixture.ts';

const DIR = new URL('../../../shared/vectors/flux-pipeline-tiny/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, DIR));
const TOLERANCE = 1e-5;

const params: AutoEncoderParams = parseAeParams((JSON.parse(read('config.json').toString('utf8')) as { configs: { ae: unknown } }).configs.ae);
const weights: Tensors = readTensors(read('ae.safetensors')).tensors;
const vectors: Tensors = readTensors(read('case_ae.safetensors'), true).tensors;
const vec = (key: string): FloatArray => {
  const t = vectors.get(key);
  if (!t) throw new Error(`case_ae: '${key}' missing`);
  return t.data;
};

describe('autoencoder vs flux-pipeline-tiny case_ae (float32)', () => {
  const [, , height, width] = vectors.get('image')!.shape as [number, number, number, number];
  let runner: AeRunner;
  let encoded: { z: FloatArray; moments: FloatArray };
  let decoded: FloatArray;

  before(async () => {
    runner = await AeRunner.create({ params, weights, shape: { batch: 1, height, width } });
    encoded = await runner.encode(vec('image'));
    decoded = await runner.decode(vec('z'));
  });
  after(() => runner.release());

  it('declares exactly the checkpoint keys and shapes', () => {
    const { store } = buildAeEncodeGraph(params, { batch: 1, height, width });
    assert.deepEqual(unusedAeWeights(store.params, weights), []);
    assert.equal(store.params.size, weights.size);
    for (const [k, v] of store.params) assert.deepEqual([...v.shape], weights.get(k)!.shape, k);
  });

  it('uses the config scale and shift', () => {
    assert.equal(params.scale_factor, 0.3611);
    assert.equal(params.shift_factor, 0.1159);
  });

  it('encoder(image) matches the moments (mean ‖ logvar)', (t) => {
    const err = relErr(encoded.moments, vec('moments'));
    t.diagnostic(`moments: max relative error ${err.toExponential(2)}`);
    assert.ok(err < TOLERANCE, `moments: relative error ${err}`);
  });

  it('encode(image) = scale · (mean − shift) matches z', (t) => {
    const err = relErr(encoded.z, vec('z'));
    t.diagnostic(`z: max relative error ${err.toExponential(2)}`);
    assert.ok(err < TOLERANCE, `z: relative error ${err}`);
  });

  it('decode(z) matches decoded', (t) => {
    const err = relErr(decoded, vec('decoded'));
    t.diagnostic(`decoded: max relative error ${err.toExponential(2)}`);
    assert.ok(err < TOLERANCE, `decoded: relative error ${err}`);
  });

  it('decode(encode(image)) of our own z stays as close', async (t) => {
    const err = relErr(await runner.decode(encoded.z), vec('decoded'));
    t.diagnostic(`decode(our z): max relative error ${err.toExponential(2)}`);
    assert.ok(err < TOLERANCE, `round trip: relative error ${err}`);
  });

  it('refuses a checkpoint with a misshapen tensor, naming the key', async () => {
    const bad = new Map(weights);
    const key = 'decoder.up.0.block.0.conv1.weight';
    const t = bad.get(key)!;
    bad.set(key, { shape: [t.shape[0]!, t.shape[1]!, 1, 9], data: t.data });
    await assert.rejects(AeRunner.create({ params, weights: bad, shape: { batch: 1, height, width } }), new RegExp(`'${key.replace(/\./g, '\\.')}' is \\[`));
  });
});
