// A diffusers FLUX.1 text-encoder layout built from ../shared/vectors/text-encoders-tiny:
// text_encoder/ (CLIP, one model.safetensors with the old position_ids buffer), text_encoder_2/
// (T5 in two shards + model.safetensors.index.json, both embedding names as real saves have),
// tokenizer/ (vocab.json + merges.txt only, as FLUX.1's) and tokenizer_2/ (a Unigram tokenizer.json).
// The tokenizers are made so that known sentences tokenise to exactly the vector cases' ids:
// CLIP id n is a two-letter word (one merge), T5 id n the piece "▁" + a two-letter word.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeSafetensors, type TensorToWrite } from '../../../src/engine/safetensors.ts';
import type { Tensors } from '../../../src/model/tensors.ts';
import { clipConfig, idRowsOf, loadTensors, rawConfigs, t5Config } from './vectors.ts';

const FIRST = 'abcdefg';
const LAST = 'hijklmn';

/** CLIP: the word whose single BPE token is id n (the k-th distinct content id). */
function clipWord(k: number): string {
  return FIRST[Math.floor(k / LAST.length)]! + LAST[k % LAST.length]!;
}

export interface ClipTokenizerFiles {
  vocab: Record<string, number>;
  merges: string[];
  /** The sentence of each case row (its ids between bos and the first eos). */
  sentences: string[];
}

export function clipTokenizerFiles(rows: number[][] = idRowsOf(loadTensors('case_clip.safetensors', true))): ClipTokenizerFiles {
  const { bos_token_id: bos, eos_token_id: eos } = clipConfig;
  const content = rows.map((row) => row.slice(1, row.indexOf(eos)));
  const ids = [...new Set(content.flat())];
  const wordOf = new Map(ids.map((id, k) => [id, clipWord(k)]));
  const vocab: Record<string, number> = { '<|startoftext|>': bos, '<|endoftext|>': eos };
  const merges: string[] = [];
  for (const [id, w] of wordOf) {
    vocab[`${w}</w>`] = id;
    merges.push(`${w[0]} ${w[1]}</w>`);
  }
  const free = Array.from({ length: clipConfig.vocab_size }, (_, i) => i).filter((i) => !Object.values(vocab).includes(i));
  for (const base of [...FIRST, ...[...LAST].map((c) => `${c}</w>`)]) vocab[base] = free.shift()!;
  return { vocab, merges, sentences: content.map((c) => c.map((id) => wordOf.get(id)!).join(' ')) };
}

/** T5: piece id n ≥ 3 is "▁" + two letters; ids 0–2 are <pad>, </s>, <unk>. */
export function t5Piece(id: number): string {
  const letters = 'abcdefgh';
  return `▁${letters[Math.floor(id / 8)]}${letters[id % 8]}`;
}

export function t5TokenizerJson(): object {
  const special = ['<pad>', '</s>', '<unk>'];
  const vocab: [string, number][] = Array.from({ length: t5Config.vocab_size }, (_, id) => [id < 3 ? special[id]! : t5Piece(id), id < 3 ? 0 : -1]);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁', add_prefix_space: true }] },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true },
    model: { type: 'Unigram', unk_id: 2, vocab },
  };
}

/** The sentence of a T5 case row: its pieces up to </s>, without the ▁. */
export function t5Sentence(row: number[]): string {
  return row
    .slice(0, row.indexOf(1))
    .map((id) => t5Piece(id).slice(1))
    .join(' ');
}

const f32 = (t: Tensors): Record<string, TensorToWrite> =>
  Object.fromEntries([...t].map(([k, v]) => [k, { dtype: 'F32', shape: v.shape, data: Float32Array.from(v.data) }]));
const json = (path: string, value: unknown) => writeFileSync(path, JSON.stringify(value, null, 1));

/** Writes the folder and returns its root. */
export function writeTinyFluxFolder(): string {
  const root = mkdtempSync(join(tmpdir(), 'fluxtune-text-encoders-'));
  const dirs = ['text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2'].map((d) => join(root, d));
  for (const d of dirs) mkdirSync(d);
  const [clipDir, t5Dir, clipTok, t5Tok] = dirs as [string, string, string, string];

  json(join(clipDir, 'config.json'), { architectures: ['CLIPTextModel'], model_type: 'clip_text_model', ...rawConfigs.clip });
  const clip = f32(loadTensors('clip.safetensors'));
  clip['text_model.embeddings.position_ids'] = { dtype: 'I64', shape: [1, 77], data: BigInt64Array.from({ length: 77 }, (_, i) => BigInt(i)) };
  writeFileSync(join(clipDir, 'model.safetensors'), serializeSafetensors(clip));

  json(join(t5Dir, 'config.json'), { architectures: ['T5EncoderModel'], model_type: 't5', feed_forward_proj: 'gated-gelu', ...rawConfigs.t5 });
  const t5 = f32(loadTensors('t5.safetensors'));
  const shardOf = (k: string) =>
    k.startsWith('encoder.block.1.') || k === 'encoder.final_layer_norm.weight' ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors';
  const weightMap = Object.fromEntries(Object.keys(t5).map((k) => [k, shardOf(k)]));
  for (const shard of new Set(Object.values(weightMap))) {
    writeFileSync(join(t5Dir, shard), serializeSafetensors(Object.fromEntries(Object.entries(t5).filter(([k]) => weightMap[k] === shard))));
  }
  json(join(t5Dir, 'model.safetensors.index.json'), { metadata: { total_size: 0 }, weight_map: weightMap });

  const { vocab, merges } = clipTokenizerFiles();
  json(join(clipTok, 'vocab.json'), vocab);
  writeFileSync(join(clipTok, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
  json(join(clipTok, 'tokenizer_config.json'), { model_max_length: 77, pad_token: '<|endoftext|>', tokenizer_class: 'CLIPTokenizer', do_lower_case: true });
  json(join(clipTok, 'special_tokens_map.json'), {
    bos_token: { content: '<|startoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
    eos_token: { content: '<|endoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
    pad_token: '<|endoftext|>',
    unk_token: { content: '<|endoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false },
  });

  json(join(t5Tok, 'tokenizer.json'), t5TokenizerJson());
  json(join(t5Tok, 'tokenizer_config.json'), {
    eos_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    model_max_length: 512,
    tokenizer_class: 'T5Tokenizer',
  });
  return root;
}
