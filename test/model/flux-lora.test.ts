// LoRA: the rank-4 reference LoRA at scale 0.75 (float64), strength 0 ≡ base bit for bit
// (float32, as served), merging, and BFL ↔ kohya ↔ PEFT conversions preserving ΔW and bias.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Feeds, Session } from '../../src/engine/session.ts';
import { fluxFeeds } from '../../src/model/flux/feeds.ts';
import { FluxRunner } from '../../src/model/flux/runner.ts';
import { buildFluxTrainingGraph, readGradients } from '../../src/model/flux/training.ts';
import { frozenWeights } from '../../src/model/flux/weights.ts';
import { loraFromBfl } from '../../src/model/lora/bfl.ts';
import { loraFeeds } from '../../src/model/lora/feeds.ts';
import { detectLoraLayout, readLora, writeLora } from '../../src/model/lora/files.ts';
import { loraFromKohya, loraToKohya } from '../../src/model/lora/kohya.ts';
import { allLinears, blockLinears, deltaWeight, fluxLinears, type Lora } from '../../src/model/lora/lora.ts';
import { mergeLora } from '../../src/model/lora/merge.ts';
import { loraFromPeft, loraToPeft } from '../../src/model/lora/peft.ts';
import { readTensors } from '../../src/model/tensors.ts';
import { data, forwardBatch, load, params, relErr, shape, TOLERANCE } from './flux-tiny-fixture.ts';

const referenceLora = (): Lora => loraFromBfl(load('lora_rank4')).lora;
const loraSpec = { rank: 4, targets: allLinears, bias: true };

describe('LoRA forward (float64)', () => {
  let runner: FluxRunner;
  before(async () => {
    runner = await FluxRunner.create({ params, weights: load('weights'), shape, dtype: 'float64', lora: loraSpec });
  });
  after(() => runner.release());

  it('matches case_lora: every Linear, scale 0.75, y = Wx + b + s·(B(Ax) + b_B)', async () => {
    const c = load('case_lora');
    const scale = data(c, 'scale')[0]!;
    assert.equal(scale, 0.75);
    const out = await runner.forward(forwardBatch(), { lora: referenceLora(), strength: scale });
    const err = relErr(out, data(c, 'out'));
    assert.ok(err < TOLERANCE, `relative error ${err}`);
  });

  it('merging ΔW into the base weights gives the same function', async () => {
    const merged = mergeLora(load('weights'), referenceLora(), 0.75);
    const plain = await FluxRunner.create({ params, weights: merged, shape, dtype: 'float64' });
    const err = relErr(await plain.forward(forwardBatch()), data(load('case_lora'), 'out'));
    await plain.release();
    assert.ok(err < TOLERANCE, `relative error ${err}`);
  });
});

describe('LoRA training graph (float64)', () => {
  it('gradients of the LoRA factors match central differences of the loss', async () => {
    const tg = buildFluxTrainingGraph(params, shape, { dtype: 'float64', lora: loraSpec });
    assert.equal(tg.trainable.size, 3 * 36, 'all LoRA tensors, no base weights');
    const session = await Session.create({ outputs: tg.outputs, frozen: frozenWeights(tg.flux.store.params, load('weights')) });
    const c = load('case_forward_backward');
    const fixed = { ...fluxFeeds(params, shape, 'float64', forwardBatch()), target: Float64Array.from(data(c, 'target')) };
    const factors = loraFeeds(tg.flux.store, referenceLora(), 0.75);
    const run = async (feeds: Feeds) => readGradients(tg, await session.run({ ...fixed, ...feeds }));
    const { grads } = await run(factors);
    const h = 1e-5;
    for (const [key, i] of [
      ['double_blocks.0.img_attn.qkv.lora_A.weight', 5],
      ['single_blocks.1.linear2.lora_B.weight', 17],
      ['final_layer.linear.lora_B.bias', 3],
      ['guidance_in.in_layer.lora_A.weight', 300],
    ] as const) {
      const at = (delta: number) => {
        const x = Float64Array.from(factors[key] as Float64Array);
        x[i] = x[i]! + delta;
        return run({ ...factors, [key]: x });
      };
      const fd = ((await at(h)).loss - (await at(-h)).loss) / (2 * h);
      const g = Number(grads.get(key)![i]);
      assert.ok(Math.abs(g - fd) <= 1e-6 * Math.max(1e-3, Math.abs(fd)) + 1e-9, `${key}[${i}]: grad ${g}, finite difference ${fd}`);
    }
    await session.release();
  });
});

describe('LoRA strength 0 (float32)', () => {
  it('reproduces the base model bit for bit, with the LoRA or with none fed', async () => {
    const weights = load('weights');
    const base = await FluxRunner.create({ params, weights, shape });
    const withBranches = await FluxRunner.create({ params, weights, shape, lora: loraSpec });
    const batch = forwardBatch();
    const expected = await base.forward(batch);
    assert.deepEqual(await withBranches.forward(batch, { lora: referenceLora(), strength: 0 }), expected);
    assert.deepEqual(await withBranches.forward(batch), expected);
    const strong = await withBranches.forward(batch, { lora: referenceLora(), strength: 2 });
    assert.ok(relErr(strong, expected) > 1e-3, 'strength 2 should change the output');
    await Promise.all([base.release(), withBranches.release()]);
  });
});

/** Max relative difference of ΔW and bias over every module of `a`, and that both cover the same Linears. */
function assertSameDeltas(a: Lora, b: Lora, tol = 1e-6): void {
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [path, m] of a) {
    const n = b.get(path)!;
    const err = relErr(deltaWeight(n), deltaWeight(m));
    assert.ok(err < tol, `${path}: ΔW relative error ${err}`);
    if (m.bias) assert.ok(relErr(n.bias!, m.bias) < tol, `${path}: bias differs`);
    else assert.equal(n.bias, undefined);
  }
}

describe('LoRA files', () => {
  const linears = fluxLinears(params);

  it('knows every Linear of the config', () => {
    assert.equal(linears.size, 36);
    assert.deepEqual([...linears.keys()].filter(blockLinears).length, 2 * 10 + 2 * 3);
    assert.deepEqual(linears.get('single_blocks.0.linear1'), { inFeatures: 64, outFeatures: 448 });
  });

  it('BFL → kohya → BFL preserves ΔW and bias, through the file too', () => {
    const lora = referenceLora();
    const kohya = loraToKohya(lora);
    assert.ok(kohya.has('lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight'));
    assert.ok(kohya.has('lora_unet_final_layer_adaLN_modulation_1.lora_up.weight'));
    assert.ok(kohya.has('lora_unet_time_in_in_layer.alpha'));
    assertSameDeltas(lora, loraFromKohya(kohya, linears));
    const bytes = writeLora(lora, 'kohya');
    assert.equal(detectLoraLayout(readTensors(bytes).tensors.keys()), 'kohya');
    assertSameDeltas(lora, readLora(bytes, params));
  });

  it('kohya α/r is baked in: α = 2 at rank 4 halves ΔW', () => {
    const lora = referenceLora();
    const kohya = loraToKohya(lora);
    for (const [k, _t] of kohya) if (k.endsWith('.alpha')) kohya.set(k, { shape: [], data: Float32Array.of(2) });
    const halved = loraFromKohya(kohya, linears);
    const path = 'double_blocks.1.txt_mlp.2';
    const want = deltaWeight(lora.get(path)!).map((x) => x / 2);
    assert.ok(relErr(deltaWeight(halved.get(path)!), want) < 1e-6);
  });

  it('BFL → PEFT → BFL preserves ΔW and bias, splitting qkv and linear1 and swapping norm_out', () => {
    const lora = referenceLora();
    const { tensors, metadata } = loraToPeft(lora, params);
    const H = params.hidden_size;
    for (const name of [
      'attn.to_q',
      'attn.to_k',
      'attn.to_v',
      'attn.add_q_proj',
      'attn.to_out.0',
      'attn.to_add_out',
      'ff.net.0.proj',
      'ff_context.net.2',
      'norm1.linear',
      'norm1_context.linear',
    ]) {
      assert.ok(tensors.has(`transformer.transformer_blocks.0.${name}.lora_A.weight`), name);
    }
    for (const name of ['attn.to_q', 'proj_mlp', 'proj_out', 'norm.linear']) {
      assert.ok(tensors.has(`transformer.single_transformer_blocks.1.${name}.lora_B.weight`), name);
    }
    assert.deepEqual(tensors.get('transformer.transformer_blocks.0.attn.to_k.lora_B.weight')!.shape, [H, 4]);
    assert.deepEqual(tensors.get('transformer.single_transformer_blocks.0.proj_mlp.lora_B.weight')!.shape, [4 * H, 4]);

    // norm_out holds (scale, shift): its first row is BFL's row H.
    const normOut = tensors.get('transformer.norm_out.linear.lora_B.weight')!;
    const bfl = lora.get('final_layer.adaLN_modulation.1')!;
    assert.deepEqual(Array.from(normOut.data.subarray(0, 4)), Array.from(bfl.up.subarray(H * 4, H * 4 + 4)));

    const back = loraFromPeft(tensors, linears, params, metadata);
    assertSameDeltas(lora, back);
    assert.equal(back.get('double_blocks.0.img_attn.qkv')!.rank, 4, 'parts sharing A come back at rank r');
    assertSameDeltas(lora, readLora(writeLora(lora, 'peft', params), params));
  });

  it('PEFT parts with their own A become one fused module of rank 3r (block-diagonal up)', () => {
    const lora = referenceLora();
    const { tensors } = loraToPeft(lora, params);
    const key = 'transformer.transformer_blocks.1.attn.to_v.lora_A.weight';
    const ownA = tensors.get(key)!;
    tensors.set(key, { shape: ownA.shape, data: ownA.data.map((x) => -2 * x) });
    const fused = loraFromPeft(tensors, linears, params).get('double_blocks.1.img_attn.qkv')!;
    assert.equal(fused.rank, 12);
    const want = deltaWeight(lora.get('double_blocks.1.img_attn.qkv')!);
    const H = params.hidden_size;
    want.subarray(2 * H * H).forEach((x, i, v) => {
      v[i] = -2 * x;
    });
    assert.ok(relErr(deltaWeight(fused), want) < 1e-6);
  });

  it('PEFT lora_alpha from the adapter metadata scales ΔW by α/r', () => {
    const lora = referenceLora();
    const { tensors } = loraToPeft(lora, params);
    const scaled = loraFromPeft(tensors, linears, params, { lora_adapter_metadata: JSON.stringify({ r: 4, lora_alpha: 8 }) });
    const path = 'single_blocks.0.linear2';
    assert.ok(
      relErr(
        deltaWeight(scaled.get(path)!),
        deltaWeight(lora.get(path)!).map((x) => 2 * x),
      ) < 1e-6,
    );
  });

  it('BFL files round-trip exactly', () => {
    const lora = referenceLora();
    const back = readLora(writeLora(lora), params);
    for (const [path, m] of lora) {
      assert.deepEqual(back.get(path)!.down, m.down);
      assert.deepEqual(back.get(path)!.up, m.up);
      assert.deepEqual(back.get(path)!.bias, m.bias);
    }
  });
});
