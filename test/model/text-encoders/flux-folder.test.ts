// loadT5Encoder / loadClipTextModel on a diffusers FLUX.1 layout (tiny-flux-folder.ts): config.json,
// sharded safetensors with an index, the tied embedding under both names, CLIP's position_ids
// buffer, the tokenizers read from tokenizer/ (vocab.json + merges.txt) and tokenizer_2/
// (tokenizer.json). Sentences tokenise to the vector cases' ids, so encode(prompts) is checked
// end to end against the float64 reference to 1e-5.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadClipTextModel, loadT5Encoder } from '../../../src/model/text-encoders/index.ts';
import { relErr } from '../flux-tiny-fixture.ts';
import { clipTokenizerFiles, t5Sentence, writeTinyFluxFolder } from './tiny-flux-folder.ts';
import { clipConfig, idRowsOf, loadTensors, t5Config, vector } from './vectors.ts';

const root = writeTinyFluxFolder();
after(() => rmSync(root, { recursive: true, force: true }));
const TOLERANCE = 1e-5;

describe('text encoders from a diffusers FLUX.1 folder', () => {
  it('CLIP: encode(sentences) → the case ids → pooler_output of case_clip', async (t) => {
    const cases = loadTensors('case_clip.safetensors', true);
    const clip = await loadClipTextModel(root, { threads: 1 });
    try {
      const { sentences } = clipTokenizerFiles();
      assert.deepEqual(clip.tokenizer.encodeBatch(sentences), idRowsOf(cases));
      const pooled = await clip.encode(sentences);
      assert.deepEqual(pooled.dims, [2, clipConfig.hidden_size]);
      const err = relErr(pooled.data, vector(cases, 'pooler_output'));
      t.diagnostic(`pooled from text: max relative error ${err.toExponential(2)}`);
      assert.ok(err < TOLERANCE, `relative error ${err}`);
      const full = await clip.forward(idRowsOf(cases));
      assert.deepEqual(full.lastHiddenState.dims, [2, 77, clipConfig.hidden_size]);
      assert.ok(relErr(full.lastHiddenState.data, vector(cases, 'last_hidden_state')) < TOLERANCE);
    } finally {
      await clip.release();
    }
  });

  it('T5: encode(sentence) → the case ids (</s>, then <pad>) → last_hidden_state of case_t5, from two shards', async (t) => {
    const cases = loadTensors('case_t5.safetensors', true);
    const [row] = idRowsOf(cases) as [number[]];
    const t5 = await loadT5Encoder(root, { maxLength: row.length, threads: 1 });
    try {
      assert.deepEqual(t5.tokenizer.encode(t5Sentence(row)), row);
      const out = await t5.encode([t5Sentence(row)]);
      assert.deepEqual(out.dims, [1, row.length, t5Config.d_model]);
      const err = relErr(out.data, vector(cases, 'last_hidden_state').subarray(0, row.length * t5Config.d_model));
      t.diagnostic(`last_hidden_state from text: max relative error ${err.toExponential(2)}`);
      assert.ok(err < TOLERANCE, `relative error ${err}`);
    } finally {
      await t5.release();
    }
  });

  it('loads from the component folders themselves, tokenizers found as siblings', async () => {
    const t5 = await loadT5Encoder(join(root, 'text_encoder_2'), { maxLength: 16, threads: 1 });
    const clip = await loadClipTextModel(join(root, 'text_encoder'), { threads: 1 });
    try {
      assert.equal(t5.maxLength, 16);
      assert.equal((await t5.encode(['aa bb'])).data.length, 16 * t5Config.d_model);
      assert.equal((await clip.encode(['ah'])).dims[0], 1);
    } finally {
      await t5.release();
      await clip.release();
    }
  });

  it('says what is missing from a folder that is not one', async () => {
    await assert.rejects(loadT5Encoder(join(root, 'tokenizer')), /neither text_encoder_2\/config\.json nor config\.json/);
  });
});
