// FLUX.1's real text encoders built without weights (declaring graph inputs allocates nothing):
// T5 v1.1 XXL (text_encoder_2: d_model 4096, 24 layers, 64 heads, d_kv 64, d_ff 10240, vocab
// 32128) and CLIP ViT-L/14's text tower (text_encoder: 768, 12 layers, 12 heads, 3072, vocab
// 49408). Key names and shapes follow HF's module tree; the totals are T5EncoderModel's
// 4,762,310,656 and CLIPTextModel's 123,060,480 parameters.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildClipGraph, buildT5Graph } from '../../../src/model/text-encoders/build.ts';
import { CLIP_L_TEXT, parseClipTextConfig, parseT5Config, T5_V1_1_XXL } from '../../../src/model/text-encoders/config.ts';
import { planT5Stages } from '../../../src/model/text-encoders/stage-plan.ts';
import { T5_MAX_LENGTH_DEV } from '../../../src/model/text-encoders/t5-tokenizer.ts';

/** The expected key set, written out from HF's module names (not from our builders). */
function t5Keys(c = T5_V1_1_XXL): Map<string, number[]> {
  const keys = new Map<string, number[]>([['shared.weight', [c.vocab_size, c.d_model]]]);
  const inner = c.num_heads * c.d_kv;
  for (let i = 0; i < c.num_layers; i++) {
    const b = `encoder.block.${i}.layer`;
    for (const p of ['q', 'k', 'v']) keys.set(`${b}.0.SelfAttention.${p}.weight`, [inner, c.d_model]);
    keys.set(`${b}.0.SelfAttention.o.weight`, [c.d_model, inner]);
    if (i === 0) keys.set(`${b}.0.SelfAttention.relative_attention_bias.weight`, [c.relative_attention_num_buckets, c.num_heads]);
    keys.set(`${b}.0.layer_norm.weight`, [c.d_model]);
    keys.set(`${b}.1.DenseReluDense.wi_0.weight`, [c.d_ff, c.d_model]);
    keys.set(`${b}.1.DenseReluDense.wi_1.weight`, [c.d_ff, c.d_model]);
    keys.set(`${b}.1.DenseReluDense.wo.weight`, [c.d_model, c.d_ff]);
    keys.set(`${b}.1.layer_norm.weight`, [c.d_model]);
  }
  keys.set('encoder.final_layer_norm.weight', [c.d_model]);
  return keys;
}

function clipKeys(c = CLIP_L_TEXT): Map<string, number[]> {
  const d = c.hidden_size;
  const keys = new Map<string, number[]>([
    ['text_model.embeddings.token_embedding.weight', [c.vocab_size, d]],
    ['text_model.embeddings.position_embedding.weight', [c.max_position_embeddings, d]],
  ]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `text_model.encoder.layers.${i}`;
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      keys.set(`${l}.self_attn.${p}.weight`, [d, d]);
      keys.set(`${l}.self_attn.${p}.bias`, [d]);
    }
    for (const n of ['layer_norm1', 'layer_norm2']) {
      keys.set(`${l}.${n}.weight`, [d]);
      keys.set(`${l}.${n}.bias`, [d]);
    }
    keys.set(`${l}.mlp.fc1.weight`, [c.intermediate_size, d]);
    keys.set(`${l}.mlp.fc1.bias`, [c.intermediate_size]);
    keys.set(`${l}.mlp.fc2.weight`, [d, c.intermediate_size]);
    keys.set(`${l}.mlp.fc2.bias`, [d]);
  }
  keys.set('text_model.final_layer_norm.weight', [d]);
  keys.set('text_model.final_layer_norm.bias', [d]);
  return keys;
}

const shapesOf = (params: ReadonlyMap<string, { shape: readonly number[] }>) => new Map([...params].map(([k, v]) => [k, [...v.shape]]));
const total = (m: Map<string, number[]>) => [...m.values()].reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);

describe('FLUX.1 text encoders at real size, without weights', () => {
  it('T5 v1.1 XXL: HF key names and shapes, 4,762,310,656 parameters, last_hidden_state [1, 512, 4096]', () => {
    const g = buildT5Graph(T5_V1_1_XXL, { batch: 1, length: T5_MAX_LENGTH_DEV });
    assert.deepEqual(shapesOf(g.store.params), t5Keys());
    assert.equal(g.store.count(), 4_762_310_656);
    assert.deepEqual([...g.outputs.last_hidden_state!.shape], [1, 512, 4096]);
  });

  it('T5 v1.1 XXL stages declare every key once between them, and each stays under 2 GB in float32', () => {
    const stages = planT5Stages(T5_V1_1_XXL, 'float32');
    const seen = new Map<string, number[]>();
    for (const range of stages) {
      const g = buildT5Graph(T5_V1_1_XXL, { batch: 1, length: 256 }, { range });
      assert.ok(g.store.count() * 4 < 2 ** 31, `stage [${range.start}, ${range.end}) is ${g.store.count() * 4} bytes`);
      for (const [k, s] of shapesOf(g.store.params)) if (!k.endsWith('relative_attention_bias.weight') || range.start === 0) seen.set(k, s);
    }
    assert.deepEqual(seen, t5Keys());
  });

  it("parses text_encoder_2/config.json's fields (feed_forward_proj 'gated-gelu' → gated gelu_new)", () => {
    const raw = {
      d_ff: 10240,
      d_kv: 64,
      d_model: 4096,
      feed_forward_proj: 'gated-gelu',
      layer_norm_epsilon: 1e-6,
      num_heads: 64,
      num_layers: 24,
      relative_attention_max_distance: 128,
      relative_attention_num_buckets: 32,
      vocab_size: 32128,
      model_type: 't5',
      dropout_rate: 0.1,
    };
    assert.deepEqual(parseT5Config(raw), T5_V1_1_XXL);
  });

  it('CLIP-L text model: HF key names and shapes, 123,060,480 parameters, pooler_output [1, 768]', () => {
    const g = buildClipGraph(CLIP_L_TEXT, { batch: 1, length: 77 });
    assert.deepEqual(shapesOf(g.store.params), clipKeys());
    assert.equal(total(clipKeys()), 123_060_480);
    assert.equal(g.store.count(), 123_060_480);
    assert.deepEqual([...g.outputs.pooler_output!.shape], [1, 768]);
    assert.deepEqual([...g.outputs.last_hidden_state!.shape], [1, 77, 768]);
  });

  it("parses text_encoder/config.json's fields, and a full CLIPConfig's text_config", () => {
    const raw = {
      architectures: ['CLIPTextModel'],
      bos_token_id: 0,
      eos_token_id: 2,
      pad_token_id: 1,
      hidden_act: 'quick_gelu',
      hidden_size: 768,
      intermediate_size: 3072,
      layer_norm_eps: 1e-5,
      max_position_embeddings: 77,
      num_attention_heads: 12,
      num_hidden_layers: 12,
      projection_dim: 768,
      vocab_size: 49408,
    };
    assert.deepEqual(parseClipTextConfig(raw), CLIP_L_TEXT);
    assert.deepEqual(parseClipTextConfig({ text_config: raw, vision_config: {} }), CLIP_L_TEXT);
  });
});
