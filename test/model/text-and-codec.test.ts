import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grad } from '../../src/engine/autodiff.ts';
import { Graph, type Value } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Session } from '../../src/engine/session.ts';
import { bucketFor, imageIds, imageToTokens, tokensToImage } from '../../src/model/codec/patches.ts';
import { captionFeeds } from '../../src/model/text/caption-feeds.ts';
import { TextEncoder, textEncoderShapes } from '../../src/model/text/encoder.ts';
import { BOS, detokenize, EOS, PAD, tokenize, wordIds, wordWeights } from '../../src/model/text/tokenizer.ts';

describe('byte tokenizer', () => {
  it('encodes any trigger word and round-trips', () => {
    for (const s of ['TOK', 'mycstm', 'ñandú 🐧', 'a photo of TOK on a red background']) {
      const ids = tokenize(s, 64);
      assert.equal(ids[0], BOS);
      assert.equal(detokenize(ids.subarray(1)), s);
    }
    const ids = tokenize('TOK', 8);
    assert.deepEqual(Array.from(ids), [BOS, 84, 79, 75, EOS, PAD, PAD, PAD]);
  });

  it('truncates keeping EOS', () => {
    const ids = tokenize('x'.repeat(100), 16);
    assert.equal(ids.length, 16);
    assert.equal(ids[15], EOS);
  });
});

describe('word buckets', () => {
  it('give every byte of a word the bucket of its word, aligned with tokenize, case-folded', () => {
    const w = wordIds('a Cat, on blue', 20, 4096);
    // positions: BOS, a, ' ', C, a, t, ',', ' ', o, n, ' ', b, l, u, e, EOS, PAD…
    assert.equal(w[0], 0);
    assert.ok(w[1]! > 0 && w[3]! > 0 && w[8]! > 0 && w[11]! > 0);
    assert.equal(w[2], 0);
    assert.equal(w[6], 0);
    assert.equal(w[15], 0);
    assert.ok(w[3] === w[4] && w[4] === w[5]);
    assert.notEqual(w[3], w[11]);
    assert.equal(wordIds('cat', 8, 4096)[1], w[3]);
    assert.equal(wordIds("t-rex's", 12, 4096)[1], wordIds("t-rex's", 12, 4096)[7]);
    for (const v of wordIds('ñandú 🐧 TOK sks', 40, 64)) assert.ok(v >= 0 && v < 64);
  });

  it('weights count each word once, truncated words included', () => {
    const w = wordWeights('a Cat, on blue', 20);
    assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 4) < 1e-6);
    assert.ok(Math.abs(w[3]! - 1 / 3) < 1e-7);
    assert.equal(w[2], 0);
    const cut = wordWeights('xx elephant', 8);
    assert.ok(Math.abs(cut.reduce((a, b) => a + b, 0) - 2) < 1e-6);
  });

  it('keep a truncated word on its full-word bucket', () => {
    assert.equal(wordIds('xx elephant', 8, 4096)[4], wordIds('elephant', 16, 4096)[1]);
    assert.throws(() => wordIds('a', 4, 1), /buckets/);
  });

  it('caption feeds are the tokenizer arrays as int64, with zero buckets when the encoder has no word table', () => {
    const f = captionFeeds('a red apple', 24, 4096);
    assert.deepEqual(Array.from(f.ids, Number), Array.from(tokenize('a red apple', 24)));
    assert.deepEqual(Array.from(f.words, Number), Array.from(wordIds('a red apple', 24, 4096)));
    assert.deepEqual(f.weights, wordWeights('a red apple', 24));
    assert.ok(captionFeeds('a red apple', 24).words.every((w) => w === 0n));
  });
});

describe('patch codec', () => {
  it('tokens round-trip pixels exactly, channel-major within a patch', () => {
    const rng = new Rng(1);
    const data = new Uint8Array(16 * 8 * 3).map(() => rng.int(256));
    const img = { width: 16, height: 8, data };
    const tokens = imageToTokens(img, 4);
    assert.equal(tokens.length, 2 * 4 * 48);
    // token (row 0, col 1), channel 2, dy 1, dx 3 ← pixel (x = 7, y = 1), channel 2
    assert.equal(tokens[1 * 48 + 2 * 16 + 1 * 4 + 3], Math.fround(data[(1 * 16 + 7) * 3 + 2]! / 127.5 - 1));
    assert.deepEqual(tokensToImage(tokens, { rows: 2, cols: 4, patch: 4 }), img);
  });

  it('image ids are (0, row, col)', () => {
    assert.deepEqual(Array.from(imageIds({ rows: 2, cols: 2, patch: 8 })), [0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1]);
  });

  it('buckets follow the aspect ratio', () => {
    assert.deepEqual(bucketFor(128, 128, 256, 8), { rows: 16, cols: 16, patch: 8 });
    const wide = bucketFor(1920, 1080, 256, 8);
    assert.ok(wide.cols > wide.rows && wide.rows * wide.cols <= 282, JSON.stringify(wide));
  });
});

describe('text encoder', () => {
  it('produces txt and pooled y of the configured shapes, and trains', async () => {
    const cfg = { max_bytes: 16, width: 32, heads: 2, layers: 1, mlp_ratio: 2, merge: 2 };
    const g = new Graph();
    const params: Value[] = [];
    const shapes = textEncoderShapes(cfg);
    const enc = new TextEncoder(cfg, (name, shape) => {
      const v = g.inputs.get(name) ?? g.input(name, shape);
      if (!params.includes(v)) params.push(v);
      return v;
    });
    const ids = g.input('ids', [2, 16], 'int64');
    const { txt, y } = enc.forward(ids);
    assert.deepEqual(txt.shape, [2, 8, 64]);
    assert.deepEqual(y.shape, [2, 32]);
    const loss = F.meanAll(F.square(y));
    const grads = grad(loss, params);
    const outputs: Record<string, Value> = { loss };
    grads.forEach((gv, i) => {
      outputs[`g${i}`] = gv;
    });
    const s = await Session.create({ outputs });
    const rng = new Rng(2);
    const feeds: Record<string, Float32Array | BigInt64Array> = {
      ids: BigInt64Array.from([...tokenize('TOK', 16), ...tokenize('a cat', 16)].map(BigInt)),
    };
    for (const p of params) {
      const data = new Float32Array(shapes[p.name]!.reduce((a, b) => a * b, 1));
      feeds[p.name] =
        p.name.endsWith('norm1.weight') || p.name.endsWith('norm2.weight') || p.name.endsWith('final_norm.weight') ? data.fill(1) : rng.fillNormal(data, 0.1);
    }
    const res = await s.run(feeds);
    assert.ok(Number.isFinite((res.loss as Float32Array)[0]));
    const embGrad = res[`g${params.findIndex((p) => p.name.endsWith('token_embedding.weight'))}`] as Float32Array;
    // Only the bytes that occur get embedding gradient.
    const rowNorm = (t: number) => embGrad.subarray(t * 32, t * 32 + 32).reduce((a, b) => a + Math.abs(b), 0);
    assert.ok(rowNorm('T'.charCodeAt(0)) > 0);
    assert.equal(rowNorm('z'.charCodeAt(0)), 0);
    await s.release();
  });
});

describe('text encoder with word buckets', () => {
  it('equals the bytes-only encoder while the table is zero, and trains only the buckets used', async () => {
    const base = { max_bytes: 16, width: 32, heads: 2, layers: 1, mlp_ratio: 2, merge: 2 };
    const shapes = textEncoderShapes({ ...base, word_buckets: 64 });
    const rng = new Rng(3);
    const weights: Record<string, Float32Array> = {};
    for (const [k, s] of Object.entries(shapes)) {
      const data = new Float32Array(s.reduce((a, b) => a * b, 1));
      weights[k] = k.endsWith('word_embedding.weight') ? data : /norm\d?\.weight$|final_norm\.weight$/.test(k) ? data.fill(1) : rng.fillNormal(data, 0.1);
    }
    const captions = ['TOK', 'a cat'];
    const ids = BigInt64Array.from(captions.flatMap((c) => [...tokenize(c, 16)]).map(BigInt));
    const words = BigInt64Array.from(captions.flatMap((c) => [...wordIds(c, 16, 64)]).map(BigInt));
    weights['text_encoder.word_vector.weight'] = rng.fillNormal(new Float32Array(64 * 32), 0.5);
    const weightsIn = Float32Array.from(captions.flatMap((c) => [...wordWeights(c, 16)]));
    const run = async (withWords: boolean, pooled = false) => {
      const g = new Graph();
      const params = new Map<string, Value>();
      const enc = new TextEncoder(withWords ? { ...base, word_buckets: 64, pooled_words: pooled } : base, (name, shape) => {
        if (!params.has(name)) params.set(name, g.input(name, shape));
        return params.get(name)!;
      });
      const { y } = enc.forward(
        g.input('ids', [2, 16], 'int64'),
        withWords ? g.input('words', [2, 16], 'int64') : undefined,
        pooled ? g.input('word_weights', [2, 16]) : undefined,
      );
      const loss = F.meanAll(F.square(y));
      const names = [...params.keys()];
      const grads = grad(loss, [...params.values()]);
      const outputs: Record<string, Value> = { y };
      names.forEach((n, i) => {
        outputs[`grad.${n}`] = grads[i]!;
      });
      const s = await Session.create({ outputs });
      const feeds: Record<string, Float32Array | BigInt64Array> = { ids, ...(withWords ? { words } : {}), ...(pooled ? { word_weights: weightsIn } : {}) };
      for (const n of names) feeds[n] = weights[n]!;
      const res = await s.run(feeds);
      await s.release();
      return res;
    };
    const plain = await run(false);
    const hashed = await run(true);
    assert.deepEqual(Array.from(hashed.y as Float32Array), Array.from(plain.y as Float32Array));
    const g = hashed['grad.text_encoder.word_embedding.weight'] as Float32Array;
    const used = new Set(Array.from(words, Number));
    for (let b = 0; b < 64; b++) {
      const norm = g.subarray(b * 32, b * 32 + 32).reduce((a, v) => a + Math.abs(v), 0);
      assert.equal(norm > 0, used.has(b), `bucket ${b}`);
    }
    // pooled words: y gains exactly the sum of each word's vector, every word once
    const pooled = (await run(true, true)).y as Float32Array;
    const table = weights['text_encoder.word_vector.weight']!;
    captions.forEach((c, b) => {
      const buckets = [...new Set(Array.from(wordIds(c, 16, 64)).filter((v) => v > 0))];
      for (let d = 0; d < 32; d++) {
        const want = (plain.y as Float32Array)[b * 32 + d]! + buckets.reduce((a, k) => a + table[k * 32 + d]!, 0);
        assert.ok(Math.abs(pooled[b * 32 + d]! - want) < 1e-5, `caption ${b} dim ${d}: ${pooled[b * 32 + d]} vs ${want}`);
      }
    });
  });
});
